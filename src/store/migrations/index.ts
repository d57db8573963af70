// The ordered list of schema migrations, compiled into the bundle (no files to find at run time).
import init from "./001-init";
import hotPath from "./002-hot-path";
import stepOrder from "./003-step-order";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "init", sql: init },
  { version: 2, name: "hot-path", sql: hotPath },
  { version: 3, name: "step-order", sql: stepOrder },
];

/** Tables `noetl db validate` expects to find. */
export const TABLES = ["catalog", "execution", "event", "step_result", "command", "credential", "worker"];
