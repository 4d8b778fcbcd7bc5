// zod's core without its translations: see ./zod.mjs.
export * from '../../node_modules/zod/v4/core/index.js';
export const locales = {};
