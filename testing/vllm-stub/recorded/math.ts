import { type RecordedSolution, bash, create, submit } from "./types.js";

export const mathSolutions: RecordedSolution[] = [
  {
    id: "math-001",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`count = sum(1 for n in range(1, 1001) if (n * n + n + 1) % 7 == 0)
print("\\boxed{%d}" % count)
`,
        "The range is small, so I can count the n directly instead of reasoning about residues.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "Modulo 7, n^2 + n + 1 vanishes exactly for n = 2 and n = 4 (4 + 2 + 1 = 7, 16 + 4 + 1 = 21). " +
      "Each of these residue classes has 143 members in 1..1000 (1000 = 7·142 + 6), so the count is 143 + 143.\n\n" +
      "Answer: \\boxed{286}",
  },
  {
    id: "math-002",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from fractions import Fraction
from itertools import product
from sympy import isprime

outcomes = list(product(range(1, 7), range(1, 7), range(1, 5)))
hits = sum(1 for roll in outcomes if isprime(sum(roll)))
p = Fraction(hits, len(outcomes))
print("\\boxed{\\frac{%d}{%d}}" % (p.numerator, p.denominator))
`,
        "Only 6*6*4 = 144 outcomes: enumerate them and count the prime sums exactly.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "There are 6·6·4 = 144 equally likely outcomes and the sum ranges from 3 to 16. " +
      "Counting the outcomes with a prime sum (3, 5, 7, 11, 13) gives 1 + 6 + 14 + 18 + 10 = 49, " +
      "and 49/144 is already in lowest terms.\n\n" +
      "Answer: \\boxed{\\frac{49}{144}}",
  },
  {
    id: "math-003",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
from sympy import Rational, latex, sqrt

a, b, c = 5, 6, 7
s = Rational(a + b + c, 2)
area = sqrt(s * (s - a) * (s - b) * (s - c))
print("\\boxed{%s}" % latex(area / s))
EOF`,
        "Inradius is area over semiperimeter; Heron's formula in sympy keeps the radical exact.",
      ),
      submit(),
    ],
    llm:
      "The semiperimeter is s = 9, so Heron's formula gives the area sqrt(9·4·3·2) = 6√6. " +
      "The inradius is area / s = 6√6 / 9 = 2√6 / 3.\n\n" +
      "Answer: \\boxed{\\frac{2\\sqrt{6}}{3}}",
  },
  {
    id: "math-004",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import latex, solve, symbols

n, a, b, c = symbols("n a b c")
# Sums of k * 2^k look like (a n + b) 2^(n+1) + c; fit on n = 1..3, then check further.
form = (a * n + b) * 2 ** (n + 1) + c
direct = {m: sum(k * 2**k for k in range(1, m + 1)) for m in range(1, 16)}
coeffs = solve([form.subs(n, m) - direct[m] for m in (1, 2, 3)], [a, b, c])
closed = form.subs(coeffs)
assert all(closed.subs(n, m) == direct[m] for m in direct), "fit does not hold"
print("\\boxed{%s}" % latex(closed))
`,
        "I'll guess the shape (a n + b) 2^{n+1} + c, solve for the coefficients from small n, and verify the fit on many more n.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "Let S = Σ k·2^k. Then 2S − S = n·2^{n+1} − (2 + 4 + … + 2^n) = n·2^{n+1} − (2^{n+1} − 2). " +
      "So S = (n − 1)2^{n+1} + 2; for n = 1 this gives 2 and for n = 2 it gives 10, as direct sums do.\n\n" +
      "Answer: \\boxed{(n-1)2^{n+1}+2}",
  },
  {
    id: "math-005",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import solve_univariate_inequality, symbols

x = symbols("x", real=True)
sol = solve_univariate_inequality((x - 1) / (x + 2) >= 2, x, relational=False)
left = "(" if sol.left_open else "["
right = ")" if sol.right_open else "]"
print("\\boxed{%s%s,%s%s}" % (left, sol.start, sol.end, right))
`,
        "sympy can solve the rational inequality and tell me which endpoints are included.",
      ),
      bash(
        "python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt",
        "Run it and print the interval in bracket notation.",
      ),
      submit(),
    ],
    llm:
      "Subtracting 2 gives (x − 1 − 2x − 4)/(x + 2) ≥ 0, i.e. (x + 5)/(x + 2) ≤ 0. " +
      "The quotient is non-positive between the zero x = −5 (included) and the pole x = −2 (excluded).\n\n" +
      "Answer: \\boxed{[-5,-2)}",
  },
  {
    id: "math-006",
    sandbox: [
      bash(
        String.raw`python3 -c 'print("\\boxed{%02d}" % pow(3, 2025, 100))' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "Modular exponentiation gives the last two digits directly; pad to two digits just in case.",
      ),
      submit(),
    ],
    llm:
      "The order of 3 modulo 100 is 20 (3^20 ≡ 1 mod 100). " +
      "Since 2025 = 20·101 + 5, 3^2025 ≡ 3^5 = 243 ≡ 43 (mod 100).\n\n" +
      "Answer: \\boxed{43}",
  },
  {
    id: "math-007",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
from sympy import latex, oo, summation, symbols

n = symbols("n", integer=True)
print("\\boxed{%s}" % latex(summation(1 / (n**2 - 1), (n, 2, oo))))
EOF`,
        "The terms telescope; let sympy evaluate the infinite sum exactly.",
      ),
      bash(
        "python3 -c 'print(sum(1 / (n * n - 1) for n in range(2, 10**6)))'",
        "Numerical sanity check of the partial sums.",
      ),
      submit(),
    ],
    llm:
      "Partial fractions give 1/(n^2 − 1) = ½(1/(n − 1) − 1/(n + 1)). " +
      "The sum telescopes, leaving ½(1 + ½) = 3/4.\n\n" +
      "Answer: \\boxed{\\frac{3}{4}}",
  },
  {
    id: "math-008",
    sandbox: [
      bash(
        String.raw`python3 -c 'print("\\boxed{%d}" % sum(1 for x in range(-5, 6) for y in range(-5, 6) if x*x + y*y <= 25))' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "Both coordinates lie in [-5, 5], so a double loop covers every candidate point.",
      ),
      submit(),
    ],
    llm:
      "For each x from −5 to 5, count the integers y with y^2 ≤ 25 − x^2. " +
      "x = 0 gives 11; x = ±1, ±2, ±3 give 9 each; x = ±4 gives 7; x = ±5 gives 1. " +
      "The total is 11 + 2(9 + 9 + 9 + 7 + 1) = 81.\n\n" +
      "Answer: \\boxed{81}",
  },
  {
    id: "math-009",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from fractions import Fraction

import numpy as np

# x^3 - 4x^2 + 5x - 7: Vieta's formulas, exactly.
e1, e2, e3 = Fraction(4), Fraction(5), Fraction(7)
value = (e1**2 - 2 * e2) + e2 / e3

roots = np.roots([1, -4, 5, -7])
numeric = sum(r**2 + 1 / r for r in roots)
assert abs(numeric - float(value)) < 1e-9, numeric
print("\\boxed{\\frac{%d}{%d}}" % (value.numerator, value.denominator))
`,
        "Use Vieta for an exact value and cross-check it against the numerical roots.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "By Vieta, r + s + t = 4, rs + st + tr = 5 and rst = 7. " +
      "Then r^2 + s^2 + t^2 = 16 − 2·5 = 6 and 1/r + 1/s + 1/t = (rs + st + tr)/rst = 5/7. " +
      "The total is 6 + 5/7 = 47/7.\n\n" +
      "Answer: \\boxed{\\frac{47}{7}}",
  },
  {
    id: "math-010",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import latex, solve, sqrtdenest, symbols

x = symbols("x", real=True)
roots = [sqrtdenest(r) for r in solve(x**4 - 10 * x**2 + 1, x)]
print("\\boxed{%s}" % latex(max(roots, key=float)))
`,
        "Solve the biquadratic exactly, denest the nested radicals and keep the largest root.",
      ),
      bash("python3 /testbed/solve.py | tee /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "As a quadratic in x^2, x^2 = 5 ± 2√6. " +
      "Since 5 + 2√6 = (√3 + √2)^2, the largest real root is √3 + √2.\n\n" +
      "Answer: \\boxed{\\sqrt{2}+\\sqrt{3}}",
  },
  {
    id: "math-011",
    sandbox: [
      create(
        "/testbed/solve.py",
        String.raw`from sympy import Interval, S, log, oo, solve_univariate_inequality, symbols

x = symbols("x", real=True)
# The logarithm needs x - 1 > 0; the square root needs its argument >= 0.
domain = solve_univariate_inequality(
    log(x - 1) / log(S(1) / 2) >= 0, x, relational=False, domain=Interval.open(1, oo)
)
left = "(" if domain.left_open else "["
right = ")" if domain.right_open else "]"
print("\\boxed{%s%s,%s%s}" % (left, domain.start, domain.end, right))
`,
        "Two conditions: the log's argument is positive and the log itself is non-negative. Solve both with sympy.",
      ),
      bash("python3 /testbed/solve.py > /testbed/answer.txt && cat /testbed/answer.txt"),
      submit(),
    ],
    llm:
      "The logarithm needs x − 1 > 0, and the square root needs log_{1/2}(x − 1) ≥ 0. " +
      "With base 1/2 the logarithm is non-negative exactly when its argument is at most 1, so 0 < x − 1 ≤ 1.\n\n" +
      "Answer: \\boxed{(1,2]}",
  },
  {
    id: "math-012",
    sandbox: [
      bash(
        String.raw`python3 - <<'EOF' > /testbed/answer.txt && cat /testbed/answer.txt
count = 0
for mask in range(1 << 12):
    if mask & (mask >> 1) == 0:
        count += 1
print("\\boxed{%d}" % count)
EOF`,
        "Encode each subset as a 12-bit mask; no two consecutive elements means no two adjacent set bits.",
      ),
      submit(),
    ],
    llm:
      "Let a(n) count the valid subsets of {1, …, n}. Either n is left out (a(n − 1) ways) or n is in and n − 1 is out (a(n − 2) ways). " +
      "With a(1) = 2 and a(2) = 3 this is the Fibonacci sequence shifted: a(n) = F(n + 2), so a(12) = F(14) = 377.\n\n" +
      "Answer: \\boxed{377}",
  },
];
