export * from "./apps";
export * from "./accounts";
export * from "./rooms";
export * from "./recordings";
export * from "./audit";
export * from "./limits";
export * from "./media";
export * from "./chat";
