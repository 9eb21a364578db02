/**
 * The `Task`: one problem for an episode, in either mode. Owned here; everything else imports it.
 * Rows in the reference's own field names (`problem_statement`, `ground_truth`, `input_files`,
 * `qa_type`) are accepted as they are, so its data works unchanged; `qa_type` may be a phrase
 * ("multiple-choice (single)"), read by `answer-type.ts`.
 *
 * @example
 * const task = taskFromRow({ id: "q1", domain: "math", problem_statement: "1+1?", ground_truth: "2", qa_type: "math" });
 */
import { z } from "zod";
import { ANSWER_TYPES, type AnswerType, readAnswerType } from "./answer-type.js";
import { instructionIssues } from "../rewards/ifeval.js";
import { UserError } from "../common/errors.js";

export { ANSWER_TYPES, type AnswerType, normalizeAnswerType } from "./answer-type.js";

/** One verifiable instruction of an instruction-following task (IFEval style). */
export const instructionSchema = z
  .object({
    id: z.string().min(1),
    kwargs: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const taskSchema = z
  .object({
    id: z.string().min(1),
    domain: z.string().min(1),
    question: z.string().min(1),
    /** File name -> text, written to /testbed/documents/ (sandbox) or inlined (plain LLM mode). */
    documents: z.record(z.string(), z.string()).default({}),
    /** The official answer; empty for instruction following, whose truth is its instructions. */
    groundTruth: z.string().default(""),
    answerType: z.enum(ANSWER_TYPES),
    instructions: z.array(instructionSchema).default([]),
    /** Scorer name; unset = routed by domain and answer type. */
    scorer: z.string().min(1).optional(),
    scorerOptions: z.record(z.string(), z.unknown()).default({}),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((task, context) => {
    for (const issue of semanticIssues(task)) context.addIssue({ code: "custom", ...issue });
  });

/** The IF verifiers' objections, one issue per instruction (its problems joined). */
function instructionIssuesOf(instructions: unknown[]): { path: string[]; message: string }[] {
  const byIndex = new Map<number | undefined, { id: string | undefined; messages: string[] }>();
  for (const problem of instructionIssues(instructions)) {
    const entry = byIndex.get(problem.index) ?? { id: problem.id, messages: [] };
    entry.messages.push(problem.message);
    byIndex.set(problem.index, entry);
  }
  return [...byIndex].map(([index, { id, messages }]) => ({
    path: index === undefined ? ["instructions"] : ["instructions", String(index)],
    message: `${id ? `${id}: ` : ""}${messages.join("; ")}`,
  }));
}

/** Checks beyond field types; run even when the types are wrong, so one pass names everything. */
function semanticIssues(task: {
  answerType?: unknown;
  instructions?: unknown;
  groundTruth?: unknown;
  documents?: unknown;
}): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const instructions = Array.isArray(task.instructions) ? task.instructions : [];
  if (task.answerType === "instruction_following" && instructions.length === 0) {
    issues.push({
      path: ["instructions"],
      message: "an instruction_following task needs at least one instruction",
    });
  } else if (instructions.length > 0) {
    issues.push(...instructionIssuesOf(instructions));
  }
  if (
    task.answerType !== "instruction_following" &&
    (typeof task.groundTruth !== "string" || task.groundTruth.trim() === "")
  ) {
    issues.push({ path: ["groundTruth"], message: "is empty; give the official answer" });
  }
  if (typeof task.documents === "object" && task.documents !== null) {
    for (const name of Object.keys(task.documents)) {
      if (name.startsWith("/") || name.split("/").includes("..")) {
        issues.push({
          path: ["documents", name],
          message: "document names are relative paths without '..', e.g. 'report.txt'",
        });
      }
    }
  }
  return issues;
}

export type Task = z.output<typeof taskSchema>;

/** Which of a row's fields hold each task field, for data with other names. */
export type ColumnMapping = Partial<
  Record<"id" | "domain" | "question" | "documents" | "groundTruth" | "answerType", string>
>;

/** A row that cannot become a task: which field, what is wrong, and how to fix it. */
export interface RowProblem {
  field: string;
  message: string;
}

export class RowError extends UserError {
  constructor(readonly problems: RowProblem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.message}`).join("; "));
  }
}

const FIELD_SOURCES: Record<keyof Required<ColumnMapping>, string[]> = {
  id: ["id", "key"],
  domain: ["domain"],
  question: ["question", "problem_statement", "prompt"],
  documents: ["documents", "input_files"],
  groundTruth: ["groundTruth", "ground_truth", "answer"],
  answerType: ["answerType", "qa_type"],
};

/** Integer ids (common in datasets, IFEval's `key`) are taken as their decimal text. */
function idText(id: unknown): unknown {
  return typeof id === "number" && Number.isInteger(id) ? String(id) : id;
}

/** IFEval's own rows: `key`, `prompt`, `instruction_id_list` and a parallel `kwargs` list. */
const IFEVAL_NAMES = ["instruction_id_list", "kwargs"];
const INSTRUCTION_LISTS = ["instructions", "instruction_id_list"];

/**
 * The row's instructions: ours (`instructions`, an array or its JSON text) or IFEval's parallel
 * lists, whose kwargs carry a null for every argument an instruction does not take.
 */
function instructionsOf(
  record: Record<string, unknown>,
  problems: RowProblem[],
): unknown[] | undefined {
  let instructions = record.instructions;
  if (typeof instructions === "string") {
    try {
      instructions = JSON.parse(instructions);
    } catch (error) {
      problems.push({
        field: "instructions",
        message: `is a string but not JSON (${(error as Error).message}); give an array of {"id": ..., "kwargs": {...}}`,
      });
      return [];
    }
  }
  if (instructions !== undefined && instructions !== null) {
    if (Array.isArray(instructions)) return instructions as unknown[];
    problems.push({
      field: "instructions",
      message: 'must be an array of {"id": ..., "kwargs": {...}}',
    });
    return [];
  }
  const ids = record.instruction_id_list;
  if (ids === undefined || ids === null) return undefined;
  const kwargs = record.kwargs ?? [];
  if (!Array.isArray(ids) || !Array.isArray(kwargs) || kwargs.length !== ids.length) {
    problems.push({
      field: "instruction_id_list",
      message: "must be an array of instruction ids with a kwargs array of the same length",
    });
    return [];
  }
  const kwargList = kwargs as unknown[];
  return (ids as unknown[]).map((id, index) => {
    const raw = kwargList[index];
    const given =
      typeof raw === "object" && raw !== null
        ? Object.entries(raw as Record<string, unknown>).filter(([, value]) => value !== null)
        : [];
    return { id, kwargs: Object.fromEntries(given) };
  });
}

/** Field names only the reference's rows use: a row with any of them speaks its dialect. */
const REFERENCE_NAMES = ["problem_statement", "ground_truth", "input_files", "qa_type"];

function pick(
  row: Record<string, unknown>,
  field: keyof Required<ColumnMapping>,
  mapping: ColumnMapping,
): [string, unknown] {
  const names = mapping[field] ? [mapping[field]] : FIELD_SOURCES[field];
  for (const name of names)
    if (row[name] !== undefined && row[name] !== null) return [name, row[name]];
  // Missing: name it the way the rest of the row names its fields.
  const reference = REFERENCE_NAMES.some((name) => name in row);
  return [
    (reference && names.find((name) => REFERENCE_NAMES.includes(name))) || names[0]!,
    undefined,
  ];
}
/**
 * Turns one raw row (ours, the reference's, or mapped names) into a `Task`, or throws a
 * `RowError` naming each bad field with its fix.
 */
export function taskFromRow(row: unknown, mapping: ColumnMapping = {}): Task {
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    throw new RowError([
      {
        field: "(row)",
        message: 'is not a JSON object; each line must be one object like {"id": ...}',
      },
    ]);
  }
  const record = row as Record<string, unknown>;
  const problems: RowProblem[] = [];
  const [documentsField, rawDocuments] = pick(record, "documents", mapping);
  let documents: unknown = rawDocuments ?? {};
  if (typeof documents === "string") {
    try {
      documents = documents.trim() === "" ? {} : JSON.parse(documents);
    } catch (error) {
      documents = {};
      problems.push({
        field: documentsField,
        message: `is a string but not JSON (${(error as Error).message}); give an object of file name -> text`,
      });
    }
  }
  const instructions = instructionsOf(record, problems);
  const [answerTypeField, rawAnswerType] = pick(record, "answerType", mapping);
  const read: { answerType: AnswerType } | { problem: string } =
    rawAnswerType === undefined && instructions !== undefined
      ? { answerType: "instruction_following" }
      : readAnswerType(rawAnswerType);
  const answerType = "answerType" in read ? read.answerType : undefined;
  if ("problem" in read) problems.push({ field: answerTypeField, message: read.problem });
  const [, rawTruth] = pick(record, "groundTruth", mapping);
  const groundTruth =
    typeof rawTruth === "number" || typeof rawTruth === "boolean" ? String(rawTruth) : rawTruth;
  const known = new Set([
    ...Object.values(FIELD_SOURCES).flat(),
    ...Object.values(mapping),
    "instructions",
    ...IFEVAL_NAMES,
    "scorer",
    "scorerOptions",
    "metadata",
  ]);
  const extra = Object.fromEntries(Object.entries(record).filter(([key]) => !known.has(key)));
  const candidate = {
    id: idText(pick(record, "id", mapping)[1]),
    domain:
      pick(record, "domain", mapping)[1] ??
      (INSTRUCTION_LISTS.some((name) => name in record) ? "instruction_following" : undefined),
    question: pick(record, "question", mapping)[1],
    documents,
    groundTruth,
    answerType: answerType ?? "open_ended",
    ...(instructions !== undefined ? { instructions } : {}),
    ...(record.scorer !== undefined ? { scorer: record.scorer } : {}),
    ...(record.scorerOptions !== undefined ? { scorerOptions: record.scorerOptions } : {}),
    metadata: { ...extra, ...((record.metadata as Record<string, unknown> | undefined) ?? {}) },
  };
  const parsed = taskSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = [
      ...parsed.error.issues.map((issue) => ({
        path: issue.path.map(String),
        message: issue.message,
      })),
    ];
    for (const issue of semanticIssues(candidate)) {
      if (!issues.some((known) => known.path.join(".") === issue.path.join(".")))
        issues.push(issue);
    }
    for (const issue of issues) {
      const [first, ...rest] = issue.path;
      const source =
        first && first in FIELD_SOURCES
          ? pick(record, first as keyof Required<ColumnMapping>, mapping)[0]
          : first;
      problems.push({ field: [source ?? "(row)", ...rest].join("."), message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new RowError(problems);
  return parsed.data;
}
