/** What `loadStack` takes: the command line's view of a Compose project. */

/** Options for loadStack; mirrors the Compose CLI's global flags. */
export interface LoadOptions {
  /** Where the command runs. */
  cwd: string;
  /**
   * `-f`, repeatable, merged in order. Default: COMPOSE_FILE, else the first of compose.yaml,
   * compose.yml, docker-compose.yaml, docker-compose.yml found in cwd or a parent directory
   * (with its compose.override.yaml beside it, when present).
   */
  files?: string[];
  /** `-p`. */
  projectName?: string;
  /** `--project-directory`. */
  projectDirectory?: string;
  /** `--env-file`, repeatable; default `<projectDir>/.env` when present. */
  envFiles?: string[];
  /** `--profile`; default COMPOSE_PROFILES. */
  profiles?: string[];
  /** Services named on the command line: enabled whatever their profile, and so are their dependencies. */
  services?: string[];
  /** The process environment; it wins over .env for interpolation. */
  env: Record<string, string | undefined>;
  /** Receives warnings (unset variables, ignored keys, obsolete `version`); they do not stop loading. */
  onWarning?: (message: string) => void;
}
