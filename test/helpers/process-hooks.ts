/**
 * A test that drives the SDK in an isolated module registry loads a fresh SDK instance, which hooks process exit
 * once (its promise-leak report, runtime/debuggable.js). The instance is discarded when the test
 * ends, so its hooks are removed then; otherwise a test file leaks one per run and Node warns with
 * MaxListenersExceededWarning. `runProgram` releases its own hooks; this covers harnesses that
 * drive the SDK directly.
 */
const EVENTS = ["exit", "beforeExit"];
type Listener = (...args: unknown[]) => void;
const emitter = process as unknown as {
  listeners(e: string): Listener[];
  removeListener(e: string, l: Listener): void;
};
let before = new Map<string, Set<Listener>>();

beforeEach(() => {
  before = new Map(EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
});

afterEach(() => {
  for (const e of EVENTS)
    for (const l of emitter.listeners(e)) if (!before.get(e)?.has(l)) emitter.removeListener(e, l);
});
