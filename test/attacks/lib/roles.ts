/**
 * Roles as data under concurrency (SPEC §6): "a role being deleted can never be assigned by a
 * write that commits after the deletion". Each round, `parallel` members are given custom role R
 * at once while R is deleted; whatever interleaving DynamoDB picks, either the deletion is refused
 * (409 role_in_use, with the exact number of holders) or no membership holds R afterwards, and
 * the invariant checker finds every grant, counter and role consistent.
 */
import { keys, partitions, prefixes } from '../../../functions/store/keys.js';
import { newOrg } from '../../support/app.js';
import { Attack, instances, sleep, tally, users } from '../../support/attack.js';
import { checkInvariants, partitionItems } from '../../support/table.js';

interface Load {
  rounds: number;
  parallel: number;
}

export async function roleDeletionRace(load: Load): Promise<Attack> {
  const attack = new Attack('roles/assign-vs-delete');
  const apps = instances(3);
  const t = apps[0]!;
  const org = await newOrg(t, 'Role deletion race');
  const members = await users(org, load.parallel);
  const permission = await attack.send(t, 'POST', '/api/permissions', { key: org.adminKey, body: { key: 'content:publish' } });
  attack.check(permission.status === 201, `permission: ${permission.status}`);
  for (let round = 0; round < load.rounds; round++) {
    attack.rounds++;
    const project = await org.project(`Race ${round}`);
    const role = await attack.send(t, 'POST', '/api/roles', { key: org.adminKey, body: { name: `Publisher ${round}`, permissions: ['content:publish'] } });
    const roleId = role.body._id as string;
    const assign = () =>
      members.map((userId, i) =>
        attack.send(apps[i % apps.length]!, 'POST', `/api/projects/${project._id}/users`, { key: org.adminKey, body: { _id: userId, roles: ['viewer', roleId] } }),
      );
    const remove = () => attack.send(apps[1]!, 'DELETE', `/api/roles/${roleId}`, { key: org.adminKey });
    // Half the rounds send the deletion first, half the assignments, a random few ms apart.
    const deletionFirst = round % 2 === 1;
    const first = deletionFirst ? [remove()] : assign();
    await sleep(Math.floor(Math.random() * (deletionFirst ? 120 : 60)));
    const second = deletionFirst ? assign() : [remove()];
    const [deletion, answers] = deletionFirst
      ? [await first[0]!, await Promise.all(second)]
      : [await second[0]!, await Promise.all(first)];
    const counts = tally(answers.map((a) => (a.status === 409 ? `409 ${a.body?.code}` : a.status)));
    attack.check(
      answers.every((a) => a.status === 201 || (a.status === 409 && a.body?.code === 'unknown_role') || a.status === 503),
      `round ${round}: assignments answered ${JSON.stringify(counts)}`,
    );
    const holding = (await partitionItems(partitions.project(project._id), prefixes.projectUser)).filter((pu) => pu.roles?.includes(roleId));
    const grants = await partitionItems(partitions.role(roleId), prefixes.roleGrant);
    if (deletion.status === 204) {
      attack.add('deletedFirst');
      attack.check(holding.length === 0, `round ${round}: ${holding.length} memberships hold ${roleId} after its deletion`);
      attack.check(grants.length === 0, `round ${round}: ${grants.length} grants of deleted ${roleId}`);
      const meta = await partitionItems(keys.roleMeta(roleId).PK, keys.roleMeta(roleId).SK);
      attack.check(meta.length === 0, `round ${round}: the grant counter of deleted ${roleId} survived`);
    } else {
      attack.add('deletionRefused');
      attack.check(deletion.status === 409 && deletion.body?.code === 'role_in_use', `round ${round}: deletion answered ${deletion.status} ${deletion.text.slice(0, 120)}`);
      attack.check(deletion.body?.holders >= 1 && deletion.body?.holders <= holding.length, `round ${round}: holders ${deletion.body?.holders}, ${holding.length} hold it now`);
      attack.check(grants.length === holding.length, `round ${round}: ${grants.length} grants for ${holding.length} holders`);
    }
    attack.add('assigned', counts[201] ?? 0);
    attack.add('refusedUnknownRole', counts['409 unknown_role'] ?? 0);
    attack.add('unavailable', counts[503] ?? 0);
  }
  await checkInvariants(attack, [org.orgId]);
  return attack;
}
