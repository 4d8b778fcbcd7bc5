import type { AuditAction } from '../../../functions/domain/model.js';
import { prefixes } from '../../../functions/store/keys.js';
import type { Collector } from '../collector.js';
import type { Inventory } from '../inventory.js';
import { isString } from '../types.js';

/**
 * The audit log accounts for every project user: a project audit item's project exists in the
 * same organization; each ProjectUser has exactly one creation item, a version of 1 + its audited
 * changes (an unaudited or lost write shows here), and no removal item; no removal is audited twice.
 */
export function checkAudit({ audits, projects, projectUsers }: Inventory, { report }: Collector) {
  const creations = new Map<string, number>();
  const removals = new Map<string, number>();
  const changes = new Map<string, number>();
  const bump = (map: Map<string, number>, id: unknown) => isString(id) && map.set(id, (map.get(id) ?? 0) + 1);
  for (const audit of audits) {
    if (audit.projectId) {
      const project = projects.get(audit.projectId);
      if (!project) report('orphan', audit, `audit of project ${audit.projectId}, which does not exist`);
      else if (project.orgId !== audit.orgId) report('cross-org', audit, `audit orgId ${audit.orgId}, project of ${project.orgId}`);
    }
    switch (audit.action as AuditAction) {
      case 'ProjectUserAdded':
      case 'ProjectCreated':
        bump(creations, audit.projectUserId);
        break;
      case 'ProjectUserUpdated':
        bump(changes, audit.projectUserId);
        break;
      case 'ProjectUserRemoved':
        bump(removals, audit.projectUserId);
        break;
      case 'ProjectOwnershipTransferred':
        bump(changes, audit.projectUserId);
        bump(changes, audit.before?.ownerProjectUserId);
        break;
    }
  }
  for (const pu of projectUsers) {
    const created = creations.get(pu.projectUserId) ?? 0;
    if (created !== 1) report('audit-creation', pu, `${created} creation audit items`);
    const changed = changes.get(pu.projectUserId) ?? 0;
    if (typeof pu.version !== 'number' || pu.version !== 1 + changed) {
      report('audit-version', pu, `version ${pu.version} but ${changed} audited changes`);
    }
    if (removals.has(pu.projectUserId)) report('audit-removal', pu, 'audited as removed but still exists');
  }
  for (const [projectUserId, count] of removals) {
    if (count > 1) report('audit-removal', `${prefixes.projectUser}${projectUserId}`, `removal audited ${count} times`);
  }
}
