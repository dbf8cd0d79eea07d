// The API types, generated from the node's Rust types by ts-rs into generated.ts (do not edit
// that file). UI-side derived types live in src/api/, never here.
export type * from "./generated";
export type * from "./desktop";
