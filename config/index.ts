export * from "./errors";
export * from "./images";
export * from "./quantity";
export * from "./schema";
export * from "./derive";
export * from "./validate";
export * from "./load";
export type { ClusterConfig } from "./cluster";
export type { ReleaseConfig } from "./release";
