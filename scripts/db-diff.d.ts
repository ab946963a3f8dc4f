/** Types of the helpers scripts/db-diff.js exports (for its unit test). */
export interface DbDiffOptions {
  name: string | undefined;
  print: boolean;
  fromEmpty: boolean;
  allowEmpty: boolean;
  allowUncommitted: boolean;
  help?: boolean;
}
export function parseArgs(argv: string[]): DbDiffOptions;
export function migrationSuffix(name: string): string;
export function nextTimestamp(existingFolders: string[], now?: Date): string;
export function toPrisma6Schema(source: string): string;
export function isEmptyDiff(sql: string): boolean;
