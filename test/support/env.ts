import { inject } from 'vitest';
import { DEFAULT_LOCAL_REGION } from '../../scripts/local-defaults.js';

// Runs in each test worker before the test file's imports, so `functions/config.ts` reads these.
process.env.TABLE_NAME = inject('tableName');
process.env.DYNAMODB_ENDPOINT = inject('dynamoEndpoint');
process.env.AWS_REGION = DEFAULT_LOCAL_REGION;
// Lambda runs Node 22; this machine's Node 20 warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.LOG_LEVEL = 'SILENT';
// Every app instance of a worker seals and accepts the same cursors (a cursor from one works on another).
process.env.CURSOR_SECRET = 'test-cursor-secret-shared-by-every-app-in-the-tests';
