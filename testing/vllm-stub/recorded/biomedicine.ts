import { type RecordedSolution, bash, create, submit } from "./types.js";

export const biomedicineSolutions: RecordedSolution[] = [
  {
    id: "biomedicine-001",
    sandbox: [
      create(
        "/testbed/triage.py",
        String.raw`# The vignette's numbers against the usual diagnostic thresholds.
glucose, ph, bicarbonate, anion_gap, ketones = 480, 7.12, 9, 24, True

dka = glucose > 250 and ph < 7.30 and bicarbonate < 18 and anion_gap > 12 and ketones
# HHS: marked hyperglycemia (usually > 600) without significant acidosis.
hhs = glucose > 600 and ph > 7.30 and bicarbonate > 18
print(f"DKA criteria met: {dka}; HHS criteria met: {hhs}")

with open("/testbed/answer.txt", "w") as answer:
    if dka and not hhs:
        print("B", file=answer)  # B. Diabetic ketoacidosis
`,
        "Check the labs against the diagnostic criteria: hyperglycemia, acidemia, low bicarbonate, a high anion gap and ketonuria point to DKA rather than HHS or a non-diabetic acidosis.",
      ),
      bash("python3 /testbed/triage.py && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "A young woman with polyuria, polydipsia and weight loss presents with glucose 480 mg/dL, pH 7.12, bicarbonate 9 and an anion gap of 24, with strongly positive urine ketones and Kussmaul breathing. " +
      "Hyperglycemia plus a high anion gap ketoacidosis is diabetic ketoacidosis, likely the first presentation of type 1 diabetes; HHS would have little acidosis and starvation or alcoholic ketosis would not give this glucose.\n\n" +
      "Answer: B",
  },
  {
    id: "biomedicine-002",
    sandbox: [
      bash(
        "printf 'E\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "The INR jumped after a UTI antibiotic. Sulfamethoxazole inhibits CYP2C9, the enzyme that clears the more potent S-warfarin, and displaces warfarin from albumin, so TMP-SMX is the classic culprit. Rifampin would do the opposite (induction, lower INR), and the others have little interaction.",
      ),
      submit(),
    ],
    llm:
      "A sharp INR rise soon after starting a UTI antibiotic in a patient on warfarin is the classic interaction with trimethoprim-sulfamethoxazole. " +
      "Sulfamethoxazole inhibits CYP2C9, which metabolizes S-warfarin, and also displaces warfarin from albumin. Rifampin would induce metabolism and lower the INR instead.\n\n" +
      "Answer: E",
  },
  {
    id: "biomedicine-003",
    sandbox: [
      bash(
        "echo A > /testbed/answer.txt && cat /testbed/answer.txt",
        "Confusion, ataxia and nystagmus/ophthalmoplegia in a heavy drinker is the Wernicke triad, caused by thiamine (B1) deficiency.",
      ),
      submit(),
    ],
    llm:
      "Confusion, a wide-based ataxic gait and nystagmus in a chronic drinker form the triad of Wernicke encephalopathy. " +
      "It results from thiamine (vitamin B1) deficiency and is treated urgently with parenteral thiamine, given before glucose.\n\n" +
      "Answer: A",
  },
  {
    id: "biomedicine-004",
    sandbox: [
      bash(
        "printf 'F\\n' > /testbed/answer.txt",
        "Metformin acts mainly on the liver: it reduces hepatic gluconeogenesis (via AMPK activation and effects on mitochondrial metabolism). It is not an insulin secretagogue, unlike sulfonylureas, which would be option A.",
      ),
      bash("cat /testbed/answer.txt", "Confirm the file content before submitting."),
      submit(),
    ],
    llm:
      "Metformin, a biguanide, lowers glucose mainly by decreasing hepatic glucose output through reduced gluconeogenesis, partly via AMPK activation. " +
      "It does not stimulate insulin release, which is why it rarely causes hypoglycemia on its own.\n\n" +
      "Answer: F",
  },
  {
    id: "biomedicine-005",
    sandbox: [
      bash(
        "printf 'C\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "For outpatient community-acquired pneumonia in a healthy adult, Streptococcus pneumoniae remains the most commonly identified bacterium; S. aureus, Pseudomonas and Klebsiella matter in specific risk groups.",
      ),
      submit(),
    ],
    llm:
      "Streptococcus pneumoniae is still the most frequently identified bacterial cause of community-acquired pneumonia in healthy adults. " +
      "Staphylococcus aureus, Pseudomonas and Klebsiella are associated with particular risk factors such as recent influenza, structural lung disease or alcohol use.\n\n" +
      "Answer: C",
  },
  {
    id: "biomedicine-006",
    sandbox: [
      bash(
        "printf 'H\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "Severe hyperkalemia with ECG changes (peaked T waves, wide QRS): the first step is to stabilize the cardiac membrane with IV calcium gluconate, which works within minutes. Insulin/glucose and albuterol shift potassium into cells; binders and dialysis remove it, but they all come after calcium.",
      ),
      submit(),
    ],
    llm:
      "With a potassium of 7.4 mEq/L and ECG changes, the immediate danger is arrhythmia. " +
      "Intravenous calcium gluconate stabilizes the myocardial membrane within minutes without lowering potassium; insulin with glucose, albuterol, binders and dialysis follow to shift or remove the potassium.\n\n" +
      "Answer: H",
  },
  {
    id: "biomedicine-007",
    sandbox: [
      bash(
        "echo G > /testbed/answer.txt && cat /testbed/answer.txt",
        "Acetaminophen level above the nomogram treatment line: start N-acetylcysteine, which restores glutathione so NAPQI is detoxified. Fomepizole is for toxic alcohols, naloxone for opioids, flumazenil for benzodiazepines.",
      ),
      submit(),
    ],
    llm:
      "A level above the treatment line on the Rumack–Matthew nomogram calls for N-acetylcysteine. " +
      "It replenishes hepatic glutathione, which conjugates the toxic metabolite NAPQI, and is most effective when started within 8 hours of ingestion.\n\n" +
      "Answer: G",
  },
  {
    id: "biomedicine-008",
    sandbox: [
      bash(
        "printf 'A\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "Antibody-secreting cells are plasma cells, the terminally differentiated form of activated B cells. Helper T cells help but do not secrete antibody; NK cells and neutrophils are innate effectors.",
      ),
      submit(),
    ],
    llm:
      "During a humoral response, activated B cells differentiate into plasma cells, which secrete large amounts of immunoglobulin. " +
      "Helper T cells support B-cell activation but make no antibody, and NK cells and neutrophils belong to innate immunity.\n\n" +
      "Answer: A",
  },
  {
    id: "biomedicine-009",
    sandbox: [
      bash(
        "printf 'F\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "ST elevation in II, III and aVF with reciprocal depression in aVL is an inferior STEMI. In most people the circulation is right-dominant, so the inferior wall is supplied by the right coronary artery via the posterior descending artery.",
      ),
      submit(),
    ],
    llm:
      "ST elevation in leads II, III and aVF with reciprocal depression in aVL localizes the infarct to the inferior wall. " +
      "About 80-85% of people are right-dominant, with the posterior descending artery arising from the right coronary artery, so RCA occlusion is the most likely cause.\n\n" +
      "Answer: F",
  },
  {
    id: "biomedicine-010",
    sandbox: [
      bash(
        "printf 'E\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "A dry cough from bradykinin accumulation points to an ACE inhibitor: ACE is also kininase II, so blocking it slows bradykinin breakdown. Lisinopril is the ACE inhibitor here; losartan, an ARB, rarely causes cough.",
      ),
      submit(),
    ],
    llm:
      "Angiotensin-converting enzyme is the same enzyme as kininase II, so ACE inhibitors also block bradykinin breakdown, and the accumulated bradykinin causes a persistent dry cough. " +
      "Lisinopril is the ACE inhibitor among the options; ARBs such as losartan spare this pathway and rarely cause cough.\n\n" +
      "Answer: E",
  },
];
