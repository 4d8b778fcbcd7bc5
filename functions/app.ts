import { readConfig } from './config.js';
import { createApp } from './http/app.js';
import { createStore } from './store/store.js';

/** The app wired from the environment: one store (one DynamoDB client) per process. */
const config = readConfig();
export const app = createApp({ store: createStore(config), config });
export type AppType = typeof app;
