// Types of what eslint.config.js exports besides the config, for test/unit/lint/boundaries.build.test.ts.
export interface Zone {
  readonly target: string | readonly string[];
  readonly from: string | readonly string[];
  readonly except?: readonly string[];
  readonly message: string;
}
export declare const ZONES: readonly Zone[];
export declare const IMPORT_SETTINGS: Record<string, unknown>;
declare const config: unknown;
export default config;
