// What-if stub of `zod` for the cold-start diagnosis (bench/lib/variants.ts `withoutZod`), never
// deployed: every schema is one chainable object whose every method returns it, and whose parse
// accepts its input unchanged. A bundle built with it has no validation at all: its cold start is
// the most that validators compiled ahead of time could save.
const accept = {
  safeParse: (data) => ({ success: true, data }),
  safeParseAsync: async (data) => ({ success: true, data }),
  parse: (data) => data,
  parseAsync: async (data) => data,
  shape: {},
  then: undefined,
};
const schema = new Proxy(function schema() {}, {
  get: (_, property) => (Object.hasOwn(accept, property) ? accept[property] : schema),
  apply: () => schema,
  construct: () => schema,
});
class ZodType {}
export const z = new Proxy({}, { get: (_, property) => (property === 'ZodType' || property === 'ZodObject' ? ZodType : property === 'NEVER' ? undefined : schema) });
export default z;
