import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of one window of a bench child's life (the measured run, not its start-up or
 * warm-up), taken in the process itself through the inspector, the same V8 sampler as
 * `node --cpu-prof`. Used by bench/server.ts (started and stopped by the parent over IPC) and by
 * bench/limit.ts (around its measured run), so both sides of a throughput ratio are profiled alike.
 */

/** The sampling interval, µs: as the cold-start profiles. */
export const SAMPLING_INTERVAL_US = 100;

export interface WindowProfiler {
  /** Stops sampling and writes the profile (`.cpuprofile` JSON) to `file`. */
  stop(file: string): Promise<void>;
}

export async function startWindowProfile(): Promise<WindowProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

/** The IPC messages between the bench and a profiled server. */
export type ProfileRequest = { profile: 'start' } | { profile: 'stop'; file: string };
export type ProfileReply = { profiling: true } | { profiled: string };

/** Answers the parent's profile requests over IPC (bench/server.ts). */
export function serveProfileRequests() {
  let profiler: WindowProfiler | null = null;
  process.on('message', async (message: ProfileRequest) => {
    if (message?.profile === 'start') {
      profiler = await startWindowProfile();
      process.send?.({ profiling: true } satisfies ProfileReply);
    } else if (message?.profile === 'stop' && profiler) {
      await profiler.stop(message.file);
      profiler = null;
      process.send?.({ profiled: message.file } satisfies ProfileReply);
    }
  });
}
