import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own child process: fd counts in /proc/self/fd belong to that file alone,
    // and a crash in the addon fails one file instead of the runner.
    pool: 'forks',
    testTimeout: 20000,
    hookTimeout: 20000,
    // The machines are 2-core; more parallel files only add noise to socket timing.
    maxWorkers: 2,
  },
});
