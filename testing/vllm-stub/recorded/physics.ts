import { type RecordedSolution, bash, create, submit } from "./types.js";

export const physicsSolutions: RecordedSolution[] = [
  {
    id: "physics-001",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`import math

v, angle, g = 20.0, math.radians(30), 9.8
h = (v * math.sin(angle)) ** 2 / (2 * g)
R = v**2 * math.sin(2 * angle) / g
# '#' keeps trailing zeros, so three significant figures stay visible (5.10).
print("\\boxed{%s, %s}" % (f"{h:#.3g}", f"{R:#.3g}"))
`,
        "Standard projectile formulas: h = v^2 sin^2(θ)/(2g) and R = v^2 sin(2θ)/g, rounded to 3 s.f.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "The vertical launch speed is 20 sin 30° = 10 m/s, so h = 10^2/(2·9.8) = 5.10 m. " +
      "The range is R = v^2 sin 60°/g = 400·0.866/9.8 = 35.3 m.\n\n" +
      "Answer: \\boxed{5.10, 35.3}",
  },
  {
    id: "physics-002",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import latex, pi, simplify, sqrt, symbols

m, L, g = symbols("m L g", positive=True)
inertia = m * L**2 / 3  # thin rod about one end
torque_per_radian = m * g * L / 2  # weight acts at the centre, small-angle sin(theta) ~ theta
omega = sqrt(torque_per_radian / inertia)
print("\\boxed{%s}" % latex(simplify(2 * pi / omega)))
`,
        "Physical pendulum: T = 2π sqrt(I / (m g d)) with I = mL^2/3 and d = L/2. Let sympy simplify it.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "About its end the rod has I = mL^2/3, and for a small angle θ gravity exerts a restoring torque mg(L/2)θ. " +
      "So ω^2 = (mgL/2)/(mL^2/3) = 3g/(2L) and T = 2π/ω.\n\n" +
      "Answer: \\boxed{2\\pi\\sqrt{\\frac{2L}{3g}}}",
  },
  {
    id: "physics-003",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
from fractions import Fraction as F

r_pair = 1 / (1 / F(6) + 1 / F(3))
current = F(12) / (r_pair + 4)
v_pair = current * r_pair
p = v_pair**2 / 3
print("\\boxed{\\frac{%d}{%d}}" % (p.numerator, p.denominator))
EOF`,
        "Reduce the circuit with exact fractions: parallel pair, total current, the pair's voltage, then V^2/R for the 3 Ω resistor.",
      ),
      submit(),
    ],
    llm:
      "The 6 Ω and 3 Ω in parallel make 2 Ω, so the total resistance is 6 Ω and the battery drives 2 A. " +
      "The pair then has 2 A · 2 Ω = 4 V across it, and the 3 Ω resistor dissipates 4^2/3 = 16/3 W.\n\n" +
      "Answer: \\boxed{\\frac{16}{3}}",
  },
  {
    id: "physics-004",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`import math

n, R, T = 2, 8.314, 300
work = n * R * T * math.log(30.0 / 10.0)
digits = 3 - 1 - math.floor(math.log10(abs(work)))
rounded = round(work, digits)
print("\\boxed{%s}" % (int(rounded) if rounded == int(rounded) else rounded))
`,
        "Reversible isothermal work is nRT ln(V2/V1); then round to three significant figures.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "For a reversible isothermal expansion the work done by the gas is W = nRT ln(V2/V1). " +
      "Here W = 2 · 8.314 · 300 · ln 3 ≈ 5480.2 J, which is 5480 J to three significant figures.\n\n" +
      "Answer: \\boxed{5480}",
  },
  {
    id: "physics-005",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
from sympy import Rational, latex, simplify, sqrt, symbols

m, c = symbols("m c", positive=True)
beta = Rational(3, 5)
gamma = 1 / sqrt(1 - beta**2)
print("\\boxed{%s}" % latex(simplify((gamma - 1) * m * c**2)))
EOF`,
        "Kinetic energy is (γ − 1)mc^2; with β = 3/5 the Lorentz factor is rational, so keep it exact.",
      ),
      submit(),
    ],
    llm:
      "At v = 0.6c, γ = 1/sqrt(1 − 0.36) = 1/0.8 = 1.25. " +
      "The relativistic kinetic energy is (γ − 1)mc^2 = 0.25 mc^2.\n\n" +
      "Answer: \\boxed{\\frac{mc^2}{4}}",
  },
  {
    id: "physics-006",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from fractions import Fraction as F

f, d_o = F(10), F(15)
d_i = 1 / (1 / f - 1 / d_o)  # thin lens: 1/f = 1/d_o + 1/d_i
M = -d_i / d_o
print("\\boxed{%s, %s}" % (d_i, M))
`,
        "Thin-lens equation for the image distance, then M = -d_i/d_o; fractions keep it exact.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "The thin-lens equation gives 1/d_i = 1/10 − 1/15 = 1/30, so d_i = 30 cm (a real image). " +
      "The magnification is M = −d_i/d_o = −30/15 = −2, an inverted image twice the size.\n\n" +
      "Answer: \\boxed{30, -2}",
  },
  {
    id: "physics-007",
    sandbox: [
      bash(
        String.raw`python3 -c 'import math; print("\\boxed{%s}" % round(11.2 * math.sqrt(2 / 0.5), 1))' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "Escape speed is sqrt(2GM/R), so it scales as sqrt(M/R); scale Earth's value by sqrt(2 / 0.5).",
      ),
      submit(),
    ],
    llm:
      "Escape speed is sqrt(2GM/R), so it scales with sqrt(M/R). " +
      "Doubling the mass and halving the radius multiplies M/R by 4 and the escape speed by 2: 2 · 11.2 km/s.\n\n" +
      "Answer: \\boxed{22.4}",
  },
  {
    id: "physics-008",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`R_H = 1.097e7  # m^-1
inverse_wavelength = R_H * (1 / 2**2 - 1 / 3**2)
wavelength_nm = 1e9 / inverse_wavelength
print("\\boxed{%.4g}" % wavelength_nm)
`,
        "Rydberg formula for the 3 → 2 transition (Balmer H-alpha), converted to nanometres.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "The Rydberg formula gives 1/λ = R_H(1/2^2 − 1/3^2) = 5R_H/36. " +
      "So λ = 36/(5 · 1.097×10^7 m^-1) = 6.563×10^-7 m, the red Balmer line.\n\n" +
      "Answer: \\boxed{656.3}",
  },
  {
    id: "physics-009",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import Eq, latex, solve, symbols

m, v, v1, v2 = symbols("m v v1 v2")
momentum = Eq(m * v, m * v1 + 3 * m * v2)
energy = Eq(m * v**2 / 2, m * v1**2 / 2 + 3 * m * v2**2 / 2)
# Drop the trivial solution in which the carts pass through each other (v1 = v, v2 = 0).
final = [s for s in solve([momentum, energy], [v1, v2], dict=True) if s[v2] != 0][0]
print("\\boxed{%s, %s}" % (latex(final[v1]), latex(final[v2])))
`,
        "Solve conservation of momentum and kinetic energy together, and discard the no-collision root.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "For a 1D elastic collision with the second body at rest, v1 = (m1 − m2)v/(m1 + m2) and v2 = 2m1 v/(m1 + m2). " +
      "With m1 = m and m2 = 3m: v1 = −2m v/(4m) = −v/2 (it bounces back) and v2 = 2m v/(4m) = v/2.\n\n" +
      "Answer: \\boxed{-\\frac{v}{2}, \\frac{v}{2}}",
  },
  {
    id: "physics-010",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import Rational, latex, solve, symbols

m, g, h, r, v = symbols("m g h r v", positive=True)
inertia = Rational(2, 5) * m * r**2  # solid sphere
# Rolling without slipping: omega = v / r.
energy = m * g * h - (m * v**2 / 2 + inertia * (v / r) ** 2 / 2)
(speed,) = solve(energy, v)
print("\\boxed{%s}" % latex(speed))
`,
        "Energy conservation with rotational kinetic energy included; rolling without slipping ties ω to v.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "Energy is conserved: mgh = ½mv^2 + ½Iω^2 with I = (2/5)mr^2 and ω = v/r. " +
      "The right side is ½mv^2 + (1/5)mv^2 = (7/10)mv^2, so v^2 = 10gh/7.\n\n" +
      "Answer: \\boxed{\\sqrt{\\frac{10gh}{7}}}",
  },
  {
    id: "physics-011",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
C, V0 = 4.0e-6, 50.0
charge = C * V0  # conserved once the source is disconnected
V = charge / (2 * C)
lost_mJ = (0.5 * C * V0**2 - 0.5 * (2 * C) * V**2) * 1e3
print("\\boxed{%g, %g}" % (V, lost_mJ))
EOF`,
        "Charge is conserved when the capacitors share it; compare the stored energies before and after.",
      ),
      submit(),
    ],
    llm:
      "The charge Q = 4.0 μF · 50 V = 200 μC spreads over 8.0 μF, so V = 25 V. " +
      "The stored energy drops from ½·4.0 μF·(50 V)^2 = 5.0 mJ to ½·8.0 μF·(25 V)^2 = 2.5 mJ, so 2.5 mJ is lost.\n\n" +
      "Answer: \\boxed{25, 2.5}",
  },
];
