// What-if stub of `@hono/zod-openapi` for the cold-start diagnosis (bench/lib/variants.ts
// `withoutZod`), never deployed: routes registered the way the library registers them (a
// `@hono/zod-validator` per request part, then the handler), with the zod stub's schemas, no
// OpenAPI registry and a one-line document.
import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { z } from './zod.mjs';

export { z };
export const createRoute = (route) => route;
export class OpenAPIHono extends Hono {
  constructor(init) {
    super(init);
    this.defaultHook = init?.defaultHook;
    this.openAPIRegistry = { registerComponent() {}, registerPath() {}, definitions: [] };
  }
  openapi = ({ middleware, hide, ...route }, handler, hook = this.defaultHook) => {
    const validators = [];
    for (const [part, target] of [['query', 'query'], ['params', 'param'], ['headers', 'header']]) {
      if (route.request?.[part]) validators.push(zValidator(target, route.request[part], hook));
    }
    const body = route.request?.body?.content?.['application/json']?.schema;
    if (body) validators.push(zValidator('json', body, hook));
    this.on([route.method], [route.path.replaceAll(/\/{(.+?)}/g, '/:$1')], ...[middleware ?? []].flat(), ...validators, handler);
    return this;
  };
  doc31 = (path) => this.get(path, (c) => c.json({ openapi: '3.1.0' }));
}
