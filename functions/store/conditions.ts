import { errors } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Actor, AuditAction, AuditEntry, OrgUser, ProjectUser } from '../domain/model.js';
import { ENTITY, gsi1, keys, type EntityType, type ItemKey } from './keys.js';
import { IdempotencyRaceError, SENT_AT, STALE, type Operation, type TxEntry } from './table.js';
import type { Authority, CallerKey, IdempotencyWrite } from './types.js';

/**
 * The transaction entries every write is assembled from: items to put, conditions that state the
 * invariants, the re-assertion of the caller's authority, and the audit and idempotency records.
 */

export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/** Left out, a failed condition means STALE: an item read before the write changed, so decide again. */
type OnFail = TxEntry['onConditionFailed'];

interface Expression {
  condition?: string;
  update?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

function operation(key: ItemKey, expression: Expression): Operation {
  const op: Operation = { Key: key };
  if (expression.condition) op.ConditionExpression = expression.condition;
  if (expression.update) op.UpdateExpression = expression.update;
  if (expression.names) op.ExpressionAttributeNames = expression.names;
  if (expression.values) op.ExpressionAttributeValues = expression.values;
  return op;
}

/** A new item; it must not exist yet. */
export function put(entity: EntityType, item: Record<string, unknown>, onConditionFailed: OnFail = STALE): TxEntry {
  return { item: { Put: { Item: { ...item, entity }, ConditionExpression: 'attribute_not_exists(PK)' } }, onConditionFailed };
}

export function check(key: ItemKey, condition: string, values?: Record<string, unknown>, onConditionFailed: OnFail = STALE): TxEntry {
  return { item: { ConditionCheck: operation(key, { condition, values }) }, onConditionFailed };
}

export function update(key: ItemKey, expression: Expression & { update: string }, onConditionFailed: OnFail = STALE): TxEntry {
  return { item: { Update: operation(key, expression) }, onConditionFailed };
}

export function remove(key: ItemKey, expression: Expression = {}, onConditionFailed: OnFail = STALE): TxEntry {
  return { item: { Delete: operation(key, expression) }, onConditionFailed };
}

/** The entries of a write, leaving out those it does not need. */
export function combine(...entries: (TxEntry | null)[]): TxEntry[] {
  return entries.filter((e): e is TxEntry => e !== null);
}

/** Drops null fields: conditions test `attribute_not_exists`, which a stored NULL would defeat. */
export function withoutNulls(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== null));
}

/** The calling key still exists, is not revoked and has not expired when the transaction is sent. */
export function liveKeyCheck(keyId: string): TxEntry {
  return check(
    keys.apiKey(keyId),
    'attribute_exists(PK) AND attribute_not_exists(revokedAt) AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
    { ':now': SENT_AT },
    errors.unauthenticated(),
  );
}

/**
 * A caller still being confirmed by its org user's item (read beside the write's own reads) holds
 * the transaction until it is: a refusal fails the write before anything is sent.
 */
function confirmedFirst(caller: CallerKey, entry: TxEntry): TxEntry {
  if (!caller.confirmed) return entry;
  const confirmation = caller.confirmed.then((refusal) => {
    if (refusal) throw refusal;
  });
  // Awaited by the transaction; a write that fails before sending it must not leave it unhandled.
  confirmation.catch(() => {});
  return { ...entry, precondition: entry.precondition ? Promise.all([entry.precondition, confirmation]) : confirmation };
}

/** The org user exists and is not being deleted: the target of a join, a key or a membership. */
export function activeOrgUserCheck(orgId: string, userId: string, onFail: OnFail): TxEntry {
  return check(keys.orgUser(orgId, userId), 'attribute_exists(PK) AND attribute_not_exists(deletingAt)', undefined, onFail);
}

/**
 * The facts the caller's authorization rested on. Checks that land on an item the write also
 * touches are folded into that item's operation by `mergeSameItem` (one item, one operation).
 */
export function authorityCheck(authority: Authority): TxEntry[] {
  if (authority.kind === 'operator') return [];
  const { caller } = authority;
  const checks: TxEntry[] = [confirmedFirst(caller, liveKeyCheck(caller.keyId))];
  if (authority.kind === 'orgUser' && authority.userId === caller.userId) {
    checks.push(
      check(keys.orgUser(authority.orgId, authority.userId), 'version = :v AND attribute_not_exists(deletingAt)', { ':v': authority.version }),
    );
  } else {
    checks.push(activeOrgUserCheck(caller.orgId, caller.userId, errors.unauthenticated()));
  }
  if (authority.kind === 'membership') {
    // The same membership, not only the same version: a re-added member's item starts over at version 1.
    checks.push(
      check(keys.membership(authority.projectId, authority.userId), 'version = :v AND projectUserId = :pu', {
        ':v': authority.version,
        ':pu': authority.projectUserId,
      }),
    );
  }
  return checks;
}

/** Who an audit entry is about; a project user's entry goes to its project's log, others to the org's. */
type AuditSubject = Pick<AuditEntry, 'orgId' | 'projectId' | 'projectUserId' | 'userId'>;

export const about = {
  member: (pu: ProjectUser): AuditSubject => ({
    orgId: pu.orgId,
    projectId: pu.projectId,
    projectUserId: pu.projectUserId,
    userId: pu.userId,
  }),
  orgUser: (orgId: string, userId: string): AuditSubject => ({ orgId, projectId: null, projectUserId: null, userId }),
};

/** The audit item of a write: what was done, to whom, by whom, and the state before and after. */
export function auditEntry(
  action: AuditAction,
  subject: AuditSubject,
  actor: Actor,
  change: { before?: Record<string, unknown>; after?: Record<string, unknown> },
  at: string,
): TxEntry {
  const eventId = newId('audit', Date.parse(at));
  const key = subject.projectId ? keys.projectAudit(subject.projectId, eventId) : keys.orgAudit(subject.orgId, eventId);
  const entry: AuditEntry = {
    ...subject,
    action,
    actor,
    before: change.before ?? null,
    after: change.after ?? null,
    eventId,
    at,
  };
  return { item: { Put: { Item: { ...key, ...entry, entity: ENTITY.audit } } }, onConditionFailed: STALE };
}

/** The response of a POST, stored under its Idempotency-Key in the same transaction. */
export function idempotencyEntry<T>(idempotency: IdempotencyWrite<T> | undefined, result: T, now: string): TxEntry | null {
  if (!idempotency) return null;
  const response = idempotency.response(result);
  const nowMs = Date.parse(now);
  return {
    item: {
      Put: {
        Item: {
          ...keys.idempotency(idempotency.apiKeyId, idempotency.keyHash),
          entity: ENTITY.idempotencyRecord,
          requestHash: idempotency.requestHash,
          status: response.status,
          body: JSON.stringify(response.body),
          headers: response.headers,
          createdAt: now,
          ttl: Math.floor(nowMs / 1000) + IDEMPOTENCY_WINDOW_SECONDS,
        },
        // An expired record (TTL deletion can lag by hours) is overwritten, a live one wins.
        ConditionExpression: 'attribute_not_exists(PK) OR createdAt < :cutoff',
        ExpressionAttributeValues: { ':cutoff': new Date(nowMs - IDEMPOTENCY_WINDOW_SECONDS * 1000).toISOString() },
      },
    },
    onConditionFailed: new IdempotencyRaceError(),
    precondition: idempotency.noEarlierResponse,
  };
}

// ---- the project user and its membership twin ------------------------------------------------

/** DynamoDB TTL (epoch seconds) removes an expired membership; NULL means never. */
function ttlOf(expiresAt: string | null | undefined): number | null {
  return expiresAt ? Math.ceil(Date.parse(expiresAt) / 1000) : null;
}

/** A new project user as its two items: the project user and the membership guarding (project, user). */
export function putMemberPair(pu: ProjectUser, onMemberExists: OnFail = STALE): TxEntry[] {
  const ttl = ttlOf(pu.expiresAt);
  return [
    put(ENTITY.membership, { ...keys.membership(pu.projectId, pu.userId), ...pu, ttl }, onMemberExists),
    put(ENTITY.projectUser, { ...keys.projectUser(pu.projectId, pu.projectUserId), ...gsi1.membershipOfUser(pu.userId, pu.projectId), ...pu, ttl }),
  ];
}

/** Update a project user and its membership twin together, conditioned on the version read. */
export function updateMemberPair(before: ProjectUser, after: ProjectUser, onStale: OnFail): TxEntry[] {
  const fields: Record<string, unknown> = {
    roles: after.roles,
    tags: after.tags,
    isOwner: after.isOwner,
    expiresAt: after.expiresAt ?? null,
    ttl: ttlOf(after.expiresAt),
    updatedAt: after.updatedAt,
    version: after.version,
  };
  const set = () => {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':expected': before.version };
    for (const name of Object.keys(fields)) {
      names[`#${name}`] = name;
      values[`:${name}`] = fields[name];
    }
    const assignments = Object.keys(fields).map((name) => `#${name} = :${name}`);
    return { condition: 'version = :expected', update: `SET ${assignments.join(', ')}`, names, values };
  };
  return pairKeys(after).map((key) => update(key, set(), onStale));
}

/** The project user's two items. */
export function pairKeys(pu: Pick<ProjectUser, 'projectId' | 'projectUserId' | 'userId'>): ItemKey[] {
  return [keys.projectUser(pu.projectId, pu.projectUserId), keys.membership(pu.projectId, pu.userId)];
}

/** What the audit log shows of a member. */
export function memberSnapshot(pu: ProjectUser) {
  return { roles: pu.roles, tags: pu.tags, isOwner: pu.isOwner, expiresAt: pu.expiresAt ?? null };
}

/** What the audit log shows of an org user. */
export function orgUserSnapshot(user: OrgUser) {
  return { name: user.name, email: user.email, kind: user.kind, orgRole: user.orgRole };
}
