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
export type ProfileReply = { profiling: true } | { profiled: string } | { profileError: string };

/** Answers the parent's profile requests over IPC (bench/server.ts); every request gets a reply. */
export function serveProfileRequests() {
  let profiler: WindowProfiler | null = null;
  const reply = (message: ProfileReply) => process.send?.(message);
  process.on('message', (message: unknown) => {
    const request = message as Partial<ProfileRequest> | null;
    if (typeof request !== 'object' || request === null || !request.profile) return;
    const handled = async () => {
      if (request.profile === 'start') {
        if (profiler) throw new Error('a profile is already running');
        profiler = await startWindowProfile();
        reply({ profiling: true });
      } else if (request.profile === 'stop') {
        if (!profiler) throw new Error('no profile is running');
        const running = profiler;
        profiler = null;
        await running.stop((request as { file: string }).file);
        reply({ profiled: (request as { file: string }).file });
      }
    };
    handled().catch((error: unknown) => reply({ profileError: error instanceof Error ? error.message : String(error) }));
  });
}
