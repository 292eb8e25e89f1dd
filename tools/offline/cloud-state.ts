import type { CallAnswer, ComputedState } from "./mocks";

/**
 * Outputs that cloud providers compute (endpoints, ARNs, certificates), filled in so the program
 * sees realistic values offline. Keyed by resource type token.
 */
export const cloudState: ComputedState = () => undefined;

/** Answers to cloud data-source calls, keyed by function token. */
export const cloudCalls: CallAnswer = () => undefined;
