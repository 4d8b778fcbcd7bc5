process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { startWorld } from './lib/world.js';
import { coldStart } from './sections/cold-start.js';
const world = await startWorld();
try { const c = await coldStart(world, 15); const r = c.result; const f = (n: string, x: any) => console.log(n.padEnd(14), x.importMs, x.firstRequestMs, x.totalMs, x.ratio ?? '');
 f('api', r.deployed.api); f('baseline', r.deployed.baseline); for (const w of r.whatIf) f(w.id, w); } finally { await world.stop(); }
