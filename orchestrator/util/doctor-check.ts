/**
 * One check of a doctor (`sandfarm sandbox doctor`, `sandfarm doctor`): what was checked, whether
 * it passed, and the fix. Both doctors return these and the CLI prints them the same way.
 *
 * @example
 * const check: DoctorCheck = { name: "engine", ok: false, detail: "no answer", fix: "run deploy/engine.sh" };
 */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** Reported for information: a failure does not fail doctor. */
  optional?: boolean;
  detail: string;
  fix?: string;
}
