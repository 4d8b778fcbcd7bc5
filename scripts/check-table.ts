/**
 * `npm run check-table -- [--table T] [--endpoint URL] [--region R] [--org ORG ...] [--json] [--once]`
 *
 * Scans the table (and its GSI1) and reports every broken invariant (the rules are in
 * scripts/invariants/). Exit code 0: none; 1: violations; 2: usage or access error. Without
 * --table it checks the local table `npm start` runs (project-users-local on http://127.0.0.1:8000);
 * with --table and no --endpoint a deployed one, with your AWS credentials. --org limits the check
 * to organizations (by Query, no Scan). A violation is reported only if a second look a second
 * later still sees it (a Scan is not a snapshot); --once reports the first look.
 */
import { parseArgs } from 'node:util';
import { checkTableSettled, inspectTable, type TableReport } from './invariants/index.js';
import { localDynamoEndpoint, localRegion, localTableName } from './local-defaults.js';

// Lambda runs Node 22; on Node 20 the AWS SDK's support notice would open the report (read when a client is built).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm run check-table -- [--table T] [--endpoint URL] [--region R] [--org ORG]... [--json] [--once]`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      table: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      org: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      once: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

let report: TableReport;
let tableName = values.table ?? '';
try {
  const local = values.table === undefined;
  tableName = values.table ?? localTableName();
  const options = {
    tableName,
    region: values.region ?? localRegion(),
    endpoint: values.endpoint ?? (local ? localDynamoEndpoint().endpoint : undefined),
    orgIds: values.org,
  };
  report = values.once ? await inspectTable(options) : await checkTableSettled(options);
} catch (error) {
  console.error(`check-table: cannot read table ${tableName}: ${(error as Error).name}: ${(error as Error).message}`);
  if (values.table === undefined && values.endpoint === undefined && (error as { code?: string }).code === 'ECONNREFUSED') {
    // The local table, and nothing listens: most often `npm start` runs on another DYNAMODB_LOCAL_PORT.
    console.error(
      'Is `npm start` running? check-table looks where it runs DynamoDB Local: give both the same DYNAMODB_LOCAL_PORT ' +
        '(e.g. `DYNAMODB_LOCAL_PORT=8001 npm run check-table`), or name an engine with --endpoint URL.',
    );
  }
  process.exit(2);
}

if (values.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const entities = Object.entries(report.byEntity).map(([entity, n]) => `${entity} ${n}`).join(', ');
  console.log(`${tableName}: ${report.items} items (${entities || 'none'}), ${report.indexEntries} GSI1 entries`);
  for (const v of report.violations) console.log(`VIOLATION ${v.rule}: ${v.item}: ${v.detail}`);
  console.log(report.violations.length === 0 ? 'No violations.' : `${report.violations.length} violation(s).`);
}
process.exit(report.violations.length === 0 ? 0 : 1);
