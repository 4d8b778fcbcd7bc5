import { handle } from 'hono/aws-lambda';
import { app } from './app.js';

/** Lambda entry: the same Hono app that `npm start` serves and the tests call. */
export const handler = handle(app);
