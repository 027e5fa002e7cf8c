// The machines benchmark's baseline: XState 5 sending N toggle events to one actor,
// with a guard and an assign on each transition (the same machine as toggle.toml).
// Usage: node xstate_toggle.mjs N   (xstate installed under bench/node_modules)
import { createMachine, createActor, assign } from 'xstate';

const n = Number(process.argv[2] ?? 1000000);

function run(label, machine) {
  const actor = createActor(machine).start();
  for (let i = 0; i < 10000; ++i) actor.send({ type: 'toggle' });  // warm-up
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; ++i) actor.send({ type: 'toggle' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${label}_events_per_s ${Math.round(n / seconds)}`);
  console.log(`${label}_events_per_cpu_s ${Math.round(n / ((cpu.user + cpu.system) / 1e6))}`);
  return actor;
}

const guarded = createMachine({
  id: 'toggle',
  initial: 'off',
  context: { count: 0 },
  states: {
    off: { on: { toggle: { target: 'on', guard: ({ context }) => context.count < 1e15,
                           actions: assign({ count: ({ context }) => context.count + 1 }) } } },
    on: { on: { toggle: { target: 'off', guard: ({ context }) => context.count < 1e15,
                          actions: assign({ count: ({ context }) => context.count + 1 }) } } },
  },
});

const flat = createMachine({
  id: 'flat',
  initial: 'off',
  states: { off: { on: { toggle: 'on' } }, on: { on: { toggle: 'off' } } },
});

const actor = run('xstate_guard_assign', guarded);
if (actor.getSnapshot().context.count !== n + 10000) throw new Error('wrong count');
run('xstate_flat', flat);
