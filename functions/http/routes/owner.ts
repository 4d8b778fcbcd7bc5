import type { RouteHandler } from '@hono/zod-openapi';
import { decideTransfer, foundOwner, type OwnerSource } from '../../domain/membership-rules.js';
import type { Membership, Principal, Project as ProjectRecord } from '../../domain/model.js';
import { assertWriteScope, authorizeTransfer } from '../../domain/permissions.js';
import type { Store } from '../../store/store.js';
import { projectAuthority } from '../authority.js';
import { actorOf, writeContext } from '../caller.js';
import { etagOf } from '../etag.js';
import { idempotentWrite, jsonReply, type IdempotencyScope } from '../idempotency.js';
import { idempotencyParameter, json, routeFor } from '../openapi.js';
import { etagHeader, exampleCaller, problems, refusal } from '../openapi-responses.js';
import { newRouter, type AppEnv } from '../router.js';
import { EXAMPLES } from '../examples.js';
import { Project, ProjectParams, TransferOwnershipBody } from '../schemas.js';
import { projectView } from '../views.js';

/** `/api/projects/{projectId}/owner`: who owns a project, changed by a transfer. */
const route = routeFor('Project users');

const transferRoute = route.post('/', {
  operationId: 'transferOwnership',
  parameters: [idempotencyParameter],
  summary: 'Transfer ownership to another project user',
  description:
    'Only the owner (or a `global` key). The new owner must be a live member of the project (404 otherwise); the previous owner stays a member with the `admin` role added. ' +
    'Transferring to the current owner changes nothing.',
  request: { params: ProjectParams, body: { required: true, content: json(TransferOwnershipBody, EXAMPLES.transferOwnership) } },
  responses: {
    200: { description: 'The project with its new owner', headers: etagHeader, content: json(Project, EXAMPLES.project) },
    ...problems(
      refusal(() => authorizeTransfer(exampleCaller.member(['admin']))),
      404,
      refusal(() => foundOwner(null)),
    ),
  },
});

const transferred = (project: ProjectRecord) => jsonReply(200, projectView(project), { ETag: etagOf(project) });

/** The record of the owner a transfer demotes, where the project does not carry its roles. */
async function ownerRecord(store: Store, projectId: string, source: OwnerSource): Promise<Membership | undefined> {
  if (source.from === 'project') return undefined;
  if (source.from === 'caller') return source.owner;
  return foundOwner((await store.projectContext(projectId, source.userId, {}, true)).callerMembership);
}

const transfer: RouteHandler<typeof transferRoute, AppEnv> = async (c) => {
  assertWriteScope(c.get('principal').key.scope);
  const { projectId } = c.req.valid('param');
  const { projectUserId } = c.req.valid('json');
  const { store } = c.var.services;
  const write = async (principal: Principal, idempotency: IdempotencyScope) => {
    const context = await writeContext(store, principal, projectId, { projectUserId });
    const decision = decideTransfer(context.caller, context.project, context.projectUser, context.callerMembership);
    if (decision.kind === 'already-owner') return context.project;
    const result = await store.transferOwnership({
      project: context.project,
      oldOwner: await ownerRecord(store, projectId, decision.oldOwner),
      newOwner: decision.newOwner,
      authority: projectAuthority(principal, context.callerMembership),
      actor: actorOf(principal),
      idempotency: idempotency.write((r) => transferred(r.project)),
    });
    return result.project;
  };
  return idempotentWrite(c, write, transferred);
};

export const ownerRoutes = newRouter().openapi(transferRoute, transfer);
