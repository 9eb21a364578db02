import { type RecordedSolution, bash, create, submit } from "./types.js";

export const chemistrySolutions: RecordedSolution[] = [
  {
    id: "chemistry-001",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
# First ionization energies in kJ/mol (standard tabulated values).
options = {"A": ("Boron", 800.6), "B": ("Carbon", 1086.5), "C": ("Nitrogen", 1402.3), "D": ("Oxygen", 1313.9)}
print(max(options, key=lambda letter: options[letter][1]))
EOF`,
        "Across period 2 the ionization energy rises, except that O dips below N: N's half-filled 2p set is extra stable, and O's paired 2p electron is easier to remove. Compare the tabulated values.",
      ),
      submit(),
    ],
    llm:
      "Ionization energy generally increases across period 2, but oxygen is an exception: its fourth 2p electron is paired and repelled, so it leaves more easily than one from nitrogen's half-filled 2p subshell. " +
      "Nitrogen (about 1402 kJ/mol) is therefore higher than oxygen (about 1314), carbon and boron.\n\n" +
      "Answer: C",
  },
  {
    id: "chemistry-002",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`import math

# HCl is a strong acid: [H+] equals its concentration after the tenfold dilution.
h_plus = 0.010 / 10
ph = -math.log10(h_plus)
options = {"A": 1.0, "B": 2.0, "C": 4.0, "D": 3.0}
print(min(options, key=lambda letter: abs(options[letter] - ph)))
`,
        "Strong acid, full dissociation: compute the pH after dilution and match it to the options.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "HCl dissociates completely, so [H+] is 0.010 M before dilution and 0.0010 M after diluting tenfold. " +
      "The pH is −log10(1.0×10^-3) = 3.0; water's own 10^-7 M is negligible.\n\n" +
      "Answer: D",
  },
  {
    id: "chemistry-003",
    sandbox: [
      create(
        "/testbed/vsepr.py",
        String.raw`# VSEPR: (bonding domains, lone pairs) -> molecular shape.
SHAPES = {
    (4, 0): "Tetrahedral",
    (3, 1): "Trigonal pyramidal",
    (5, 0): "Trigonal bipyramidal",
    (4, 1): "Seesaw",
    (3, 2): "T-shaped",
    (4, 2): "Square planar",
}
valence_s = 6
bonds = 4  # four S-F single bonds, one electron from S each
lone_pairs = (valence_s - bonds) // 2
shape = SHAPES[(bonds, lone_pairs)]
options = {"A": "Tetrahedral", "B": "Seesaw", "C": "Square planar", "D": "Trigonal pyramidal"}
print(next(letter for letter, name in options.items() if name == shape))
`,
        "Count electron domains on sulfur: 6 valence electrons, 4 used in S-F bonds, the rest as lone pairs.",
      ),
      bash("python3 /testbed/vsepr.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "Sulfur has six valence electrons; four form bonds to fluorine and the remaining two are a lone pair. " +
      "Five electron domains give a trigonal bipyramidal arrangement, and with the lone pair in an equatorial position the molecule is seesaw-shaped.\n\n" +
      "Answer: B",
  },
  {
    id: "chemistry-004",
    sandbox: [
      bash(
        `python3 -c 'm = 0.500 * 44.01; opts = {"A": 11.0, "B": 22.0, "C": 44.0, "D": 88.0}; print(min(opts, key=lambda k: abs(opts[k] - m)))' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "Mass is moles times molar mass; pick the option closest to it.",
      ),
      submit(),
    ],
    llm:
      "Mass equals amount times molar mass: 0.500 mol × 44.01 g/mol = 22.0 g (three significant figures).\n\n" +
      "Answer: B",
  },
  {
    id: "chemistry-005",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
from sympy import solve, symbols

x = symbols("x")
# K is +1 and O is -2; the neutral compound K2Cr2O7 sums to zero.
(cr,) = solve(2 * 1 + 2 * x + 7 * (-2), x)
options = {"A": 3, "B": 4, "C": 7, "D": 6}
print(next(letter for letter, value in options.items() if value == cr))
EOF`,
        "Charge balance fixes the chromium oxidation state; solve it and match the option.",
      ),
      submit(),
    ],
    llm:
      "Potassium is +1 and oxygen −2, and the compound is neutral: 2(+1) + 2x + 7(−2) = 0. " +
      "So 2x = 12 and each chromium is +6.\n\n" +
      "Answer: D",
  },
  {
    id: "chemistry-006",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`HYBRIDIZATION = {2: "sp", 3: "sp2", 4: "sp3", 5: "sp3d", 6: "sp3d2"}
# O=C=O: each double bond counts as one electron domain; carbon has no lone pairs.
sigma_partners, lone_pairs = 2, 0
kind = HYBRIDIZATION[sigma_partners + lone_pairs]
options = {"A": "sp", "B": "sp2", "C": "sp3", "D": "sp3d"}
print(next(letter for letter, name in options.items() if name == kind))
`,
        "Hybridization follows the steric number of carbon: atoms bonded plus lone pairs.",
      ),
      bash("python3 /testbed/solve.py | tee /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "In O=C=O the carbon has two electron domains (two double bonds, no lone pairs), so it is linear. " +
      "Two domains mean sp hybridization, with the remaining two p orbitals forming the π bonds.\n\n" +
      "Answer: A",
  },
  {
    id: "chemistry-007",
    sandbox: [
      bash(
        "printf 'C\\n' > /testbed/answer.txt && cat /testbed/answer.txt",
        "A Lewis acid accepts an electron pair. NH3 and H2O have lone pairs to donate (Lewis bases) and CH4 has neither a lone pair nor an empty orbital. Boron in BF3 has only six valence electrons and an empty p orbital, so BF3 is the acceptor.",
      ),
      submit(),
    ],
    llm:
      "A Lewis acid is an electron-pair acceptor. BF3 has a boron with only six valence electrons and a vacant p orbital, so it readily accepts a pair (as in F3B–NH3). " +
      "NH3 and H2O are lone-pair donors, and CH4 does neither.\n\n" +
      "Answer: C",
  },
  {
    id: "chemistry-008",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from itertools import product

# CH3-CHBr-CHBr-CH3: two stereocentres (C2, C3) with identical substituent sets. Numbering from
# the other end swaps C2 and C3, so (c2, c3) and (c3, c2) describe the same molecule.
distinct = {min(config, config[::-1]) for config in product("RS", repeat=2)}
print(sorted("".join(config) for config in distinct))
options = {"A": 2, "B": 3, "C": 4, "D": 1}
print(next(letter for letter, value in options.items() if value == len(distinct)))
`,
        "Enumerate the 2^2 configurations and merge the ones that are the same molecule by symmetry (this is where a meso form appears).",
      ),
      bash(
        "python3 /testbed/solve.py && python3 /testbed/solve.py | tail -n 1 > /testbed/answer.txt && cat /testbed/answer.txt",
        "Show the distinct configurations, then keep only the letter in the answer file.",
      ),
      submit(),
    ],
    llm:
      "2,3-Dibromobutane has two stereocentres, so at most 2^2 = 4 configurations. " +
      "Because the two centres carry the same groups, (2R,3S) and (2S,3R) are the same achiral meso compound, leaving the (R,R)/(S,S) enantiomeric pair plus the meso form: three stereoisomers.\n\n" +
      "Answer: B",
  },
  {
    id: "chemistry-009",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`import math

pka, acid, base = 4.76, 0.20, 0.10
ph = pka + math.log10(base / acid)  # Henderson-Hasselbalch
print(f"pH = {ph:.3f}")
options = {"A": 4.46, "B": 5.06, "C": 4.76, "D": 3.76}
with open("/testbed/answer.txt", "w") as answer:
    print(min(options, key=lambda letter: abs(options[letter] - ph)), file=answer)
`,
        "Henderson-Hasselbalch with the acid in excess, so the pH should fall below the pKa.",
      ),
      bash("python3 /testbed/solve.py && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "By Henderson–Hasselbalch, pH = pKa + log10([A−]/[HA]) = 4.76 + log10(0.10/0.20). " +
      "log10(0.5) ≈ −0.30, so the pH is 4.46, below the pKa because the acid is in excess.\n\n" +
      "Answer: A",
  },
  {
    id: "chemistry-010",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
# SN1 rate tracks carbocation stability: count alkyl groups on the carbon that loses Br-.
carbon_substituents = {
    "A": 0,  # bromomethane -> methyl cation
    "B": 1,  # 1-bromopropane -> primary
    "C": 2,  # 2-bromopropane -> secondary
    "D": 3,  # 2-bromo-2-methylpropane -> tertiary
}
print(max(carbon_substituents, key=carbon_substituents.get))
EOF`,
        "The rate-determining step of SN1 is ionization, so the most substituted carbocation wins.",
      ),
      submit(),
    ],
    llm:
      "In SN1 solvolysis the slow step is loss of bromide to form a carbocation, so the rate follows carbocation stability: tertiary > secondary > primary > methyl. " +
      "2-Bromo-2-methylpropane ionizes to the tertiary tert-butyl cation, stabilized by three alkyl groups, and reacts fastest.\n\n" +
      "Answer: D",
  },
];
