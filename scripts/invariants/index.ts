/**
 * The table's invariants, checked over the items themselves (an admin tool: it may Scan; nothing
 * that serves requests uses it). `inspectTable` collects the items — the whole table and its GSI1
 * by Scan, or one or more organizations by Query — and `findViolations` is the pure rule set, so
 * tests can feed it hand-made items too. `npm run check-table` (scripts/check-table.ts) is its CLI.
 *
 * Rules (each violation names one), by group:
 *   rules/layout.ts        entity                   an item without a known `entity`, or whose keys do not match its entity's layout (keys.ts)
 *                          dangling-gsi             an entity that has no GSI1 keys in the layout carries some
 *   rules/org-users.ts     cross-org                an org user of an organization that does not exist
 *                          email-guard              an e-mail guard without its user, or a user with an e-mail and no guard
 *   rules/project-users.ts membership-without-guard a ProjectUser without its Membership twin
 *                          guard-without-membership a Membership without its ProjectUser twin
 *                          twin-mismatch            twins that disagree (version, roles, tags, isOwner, IDs, dates)
 *                          duplicate-membership     two ProjectUsers for one (project, org user)
 *                          bad-value                roles/tags outside the API's limits (domain/limits.ts) or a tag it refuses
 *                          orphan / cross-org       a membership whose project does not exist / is another organization's
 *                          member-user-missing      a membership of an org user that does not exist (dangling USER# GSI entry)
 *   rules/projects.ts      owner-count              a project without exactly one ProjectUser with isOwner = true
 *                          owner-pointer            the project's ownerProjectUserId / ownerUserId / ownerRoles disagree with the owner item
 *                          owner-not-member         the project points at an owner that is not a member
 *                          dangling-gsi             a project whose organization (its GSI1 partition) does not exist
 *   rules/api-keys.ts      key-without-user         a live (not revoked) API key whose org user does not exist
 *                          key-holder               a live key whose copy of its holder (name, e-mail, kind, org role, version) disagrees with the org user
 *                          cross-org / bad-value    a key or pin of another organization; an unknown scope, a live global key of an org member, a bad secretHash
 *   rules/audit.ts         audit-creation           a ProjectUser without exactly one creation audit item (added / project created)
 *                          audit-version            a ProjectUser whose version is not 1 + the audited changes to it (an unaudited or lost write)
 *                          audit-removal            a removal audited twice, or audited for a project user that still exists
 *                          orphan / cross-org       a project audit item whose project does not exist / is another organization's
 *   rules/dead-keys.ts     revoked-writer           a write audited after its actor key was revoked or expired
 *                          key-outlives-creator     a key that expires later than the expiring key that created it
 *   rules/index-entries.ts dangling-gsi             a GSI1 entry pointing at nothing or not its base item's, or a base item missing from GSI1
 */
export { findViolations } from './find-violations.js';
export { checkTable, checkTableSettled, inspectTable, type CheckTableOptions } from './inspect.js';
export { WRITE_CLOCK_TOLERANCE_MS } from './rules/dead-keys.js';
export type { Item, RuleName, TableReport, Violation } from './types.js';
