import { loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createStore } from './store/store.js';

/**
 * The app wired from the environment: one store (one DynamoDB client) per process. The top-level
 * await reads the cursor secret from Secrets Manager once, at cold start, before any request.
 */
const config = await loadConfig();
export const app = createApp({ store: createStore(config), config });
export type AppType = typeof app;
