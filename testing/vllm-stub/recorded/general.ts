import { type RecordedSolution, bash, submit } from "./types.js";

const DOCS = "/testbed/documents";

/** A turn running a Python program given on stdin, then showing the answer file it wrote. */
function solve(program: string, reasoning: string) {
  return bash(`python3 - <<'EOF'\n${program}EOF\ncat /testbed/answer.txt`, reasoning);
}

/** A turn writing an answer the evidence shown by earlier turns supports, then showing it. */
function writeAnswer(answer: string, reasoning: string) {
  return bash(
    `printf '%s\\n' '${answer}' > /testbed/answer.txt && cat /testbed/answer.txt`,
    reasoning,
  );
}

export const generalSolutions: RecordedSolution[] = [
  {
    id: "general-single-001",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/move-schedule.csv`,
        "Look at the schedule first: who moves to which floor in which week.",
      ),
      bash(
        `grep -n -i "amendment\\|postpone\\|fourth" ${DOCS}/relocation-memo.txt`,
        "The memo may change the schedule; search it for amendments and the fourth floor.",
      ),
      solve(
        String.raw`import csv, re
memo = open("/testbed/documents/relocation-memo.txt").read()
rows = list(csv.DictReader(open("/testbed/documents/move-schedule.csv")))
week = {row["team"]: int(row["week"]) for row in rows}
floor = {row["team"]: int(row["destination_floor"]) for row in rows}
for team, old, new in re.findall(r"(\w+)'s move is postponed from week (\d+) to week (\d+)", memo):
    print(f"amendment: {team} moves in week {new}, not {old}")
    week[team] = int(new)
fourth = sorted((week[team], team) for team in week if floor[team] == 4)
print("fourth-floor moves after the amendment:", fourth)
options = {"A": "Legal", "B": "Design", "C": "Finance", "D": "Customer Support"}
letter = next(key for key, team in options.items() if team == fourth[0][1])
open("/testbed/answer.txt", "w").write(letter + "\n")
`,
        "Apply the postponement to the schedule and take the earliest fourth-floor move.",
      ),
      submit(),
    ],
    llm: "The schedule has Legal moving to the fourth floor in week 2, but the memo's amendment postpones Legal to week 4 because the fourth-floor network closet is not ready. Design keeps its week 3 move to the fourth floor, so Design arrives there first.\n\nAnswer: B",
  },
  {
    id: "general-single-002",
    sandbox: [
      bash(
        `ls -l ${DOCS} && head -5 ${DOCS}/q2-sales.csv && grep -n -i "correction\\|batch\\|removed" ${DOCS}/sales-note.txt`,
        "Check the export's columns and find the correction the note asks for.",
      ),
      solve(
        String.raw`import csv, re
from collections import defaultdict
note = open("/testbed/documents/sales-note.txt").read()
region, units, product = re.search(r"In June the (\w+) region shipped a batch of (\d+) (.+?)s to", note).groups()
revenue = defaultdict(float)
for row in csv.DictReader(open("/testbed/documents/q2-sales.csv")):
    revenue[row["region"]] += int(row["units_sold"]) * float(row["unit_price_usd"])
    if (row["region"], row["month"], row["product"]) == (region, "2024-06", product):
        price = float(row["unit_price_usd"])
revenue[region] -= int(units) * price
print(f"removed {units} x {product} at {price} from {region}")
for name, total in sorted(revenue.items(), key=lambda item: -item[1]):
    print(f"{name:10s} {total:10.2f}")
options = {"A": "Northern", "B": "Eastern", "C": "Southern", "D": "Western"}
best = max(revenue, key=revenue.get)
open("/testbed/answer.txt", "w").write(next(k for k, v in options.items() if v == best) + "\n")
`,
        "Revenue is units times list price; subtract the rejected jackets from Eastern's June figure and rank.",
      ),
      submit(),
    ],
    llm: "Gross revenue (units x list price) for the quarter: Northern 90,399.00, Eastern 97,827.00, Southern 88,167.00, Western 92,059.50. The note requires removing the 63 rejected Summit shell jackets at 149.00 from Eastern's June figure, which takes 9,387.00 off Eastern and leaves it at 88,440.00. Western is then the highest at 92,059.50.\n\nAnswer: D",
  },
  {
    id: "general-single-003",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n "rolled out\\|ERROR" ${DOCS}/deploy.log`,
        "Find when the release was rolled out and every error line.",
      ),
      solve(
        String.raw`lines = open("/testbed/documents/deploy.log").read().splitlines()
rollout = next(line for line in lines if "release 3.8.0 rolled out" in line).split()[0]
first = next(line for line in lines if line.split()[1] == "ERROR" and line.split()[0] > rollout)
print("rollout at", rollout)
print("first error after it:", first)
options = {"A": "search-indexer", "B": "billing-api", "C": "auth-gateway", "D": "notification-worker"}
open("/testbed/answer.txt", "w").write(next(k for k, v in options.items() if v == first.split()[2]) + "\n")
`,
        "The search-indexer error is before the rollout; take the first ERROR after the rollout time.",
      ),
      submit(),
    ],
    llm: 'Release 3.8.0 was rolled out at 14:02:10. The search-indexer error at 13:58:31 came before that and concerns bad catalog data. The first error after the rollout is billing-api at 14:03:55 (column "tax_region" does not exist), ahead of notification-worker at 14:04:19 and auth-gateway at 14:05:10.\n\nAnswer: B',
  },
  {
    id: "general-single-004",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "reason\\|decision report\\|condition\\|stable\\|modest" ${DOCS}/millbrook-article.txt`,
        "Search the article for what the council's decision report names as the reason.",
      ),
      writeAnswer(
        "B",
        "The decision report says opening the river to migrating fish was the reason, a condition of the abstraction licence; the flood benefit is modest and the weir was found stable. That is option B.",
      ),
      submit(),
    ],
    llm: "The article lists several claimed benefits, but the council's decision report says what tipped the balance: the regulator made fish passage a condition of renewing the council's water abstraction licence, and \"opening the river to migrating fish was the reason we had to act\". The flood benefit is modest and a 2021 survey found the weir stable.\n\nAnswer: B",
  },
  {
    id: "general-single-005",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/claim-4471.txt`,
        "Read the claim itself; the policy rules come next.",
      ),
      bash(
        `grep -n -i "USD\\|percent\\|laundry\\|upgrade\\|receipt" ${DOCS}/travel-policy.txt`,
        "Pull out the policy's caps, rates and exclusions.",
      ),
      solve(
        String.raw`import re
from datetime import datetime
policy = open("/testbed/documents/travel-policy.txt").read()
claim = open("/testbed/documents/claim-4471.txt").read()
cap = float(re.search(r"up to ([\d.]+) USD per night", policy).group(1))
meal = float(re.search(r"allowance of ([\d.]+) USD", policy).group(1))
partial = int(re.search(r"allowance is (\d+) percent", policy).group(1)) / 100
per_mile = float(re.search(r"([\d.]+) USD per mile", policy).group(1))
nights, rate, tax = re.search(r"(\d+) nights at ([\d.]+) USD per night, plus (\d+) percent", claim).groups()
lodging = int(nights) * min(float(rate), cap) * (1 + int(tax) / 100)
departed, returned = (datetime.strptime(day, "%d %B %Y") for day in re.findall(r"(?:departed|returned) \w+ (\d+ \w+ \d{4})", claim))
days = (returned - departed).days + 1
meals = meal * (days - 2) + 2 * meal * partial
excluded = {"upgrade": "5: no written approval", "dinner": "3: meals only via the allowance", "laundry": "7: trip under five nights"}
items = 0.0
for name, amount, unit in re.findall(r"^- (.+): ([\d.]+) (USD|miles)$", claim, re.M):
    value = float(amount) * (per_mile if unit == "miles" else 1)
    reason = next((why for word, why in excluded.items() if word in name.lower()), None)
    print(f"{value:8.2f}  {name}" + (f"  -> dropped, policy {reason}" if reason else ""))
    items += 0 if reason else value
total = round(lodging + meals + items, 2)
print(f"lodging {lodging:.2f}  meals {meals:.2f} ({days} days)  items {items:.2f}  total {total:.2f}")
options = {"A": 1843.42, "B": 1762.78, "C": 1790.28, "D": 1819.78}
open("/testbed/answer.txt", "w").write(next(k for k, v in options.items() if abs(v - total) < 0.005) + "\n")
`,
        "Cap the room rate and its tax, pay the meal allowance by day, mileage at the rate, and drop the excluded items.",
      ),
      submit(),
    ],
    llm: "Lodging: the rate is capped at 180.00, so 3 x 180.00 x 1.12 = 604.80. Meals: the trip runs Monday to Thursday, two full days at 55.00 and two travel days at 41.25, so 192.50; the dinner receipt is covered by the allowance. Mileage 46 x 0.58 = 26.68, plus parking 64.00, flight 418.60, taxis 31.40 and 29.80 and registration 395.00. The seat upgrade has no written approval and laundry is excluded on a trip under five nights. Total 604.80 + 192.50 + 965.48 = 1,762.78 USD.\n\nAnswer: B",
  },
  {
    id: "general-single-006",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/production-week-32.csv && grep -n -i "waste rate" ${DOCS}/review-notes.txt`,
        "See the production figures and the agreed definition of the waste rate.",
      ),
      solve(
        String.raw`import csv
rates = {}
for row in csv.DictReader(open("/testbed/documents/production-week-32.csv")):
    rates[row["product"]] = int(row["discarded"]) / int(row["baked"])
for product, rate in sorted(rates.items(), key=lambda item: -item[1]):
    print(f"{product:18s} {rate:.4f}")
options = {"A": "Seeded rye", "B": "Butter croissant", "C": "Spelt roll", "D": "Fruit scone"}
best = max(options, key=lambda letter: rates[options[letter]])
open("/testbed/answer.txt", "w").write(best + "\n")
`,
        "Waste is discarded over baked; donations do not count. Compute it for every product.",
      ),
      submit(),
    ],
    llm: "The agreed waste rate is discarded divided by baked, and donations are not waste. Seeded rye 9/180 = 5.0%, butter croissant 52/650 = 8.0%, spelt roll 34/240 = 14.2%, fruit scone 22/200 = 11.0%. The spelt roll is highest.\n\nAnswer: C",
  },
  {
    id: "general-single-007",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "proposal\\|carried\\|adopted\\|withdrawn\\|amendment" ${DOCS}/committee-minutes.txt`,
        "Find what happened to each proposal in the minutes.",
      ),
      solve(
        String.raw`import re
minutes = open("/testbed/documents/committee-minutes.txt").read()
adopted = []
for number, text in re.findall(r"^Proposal (\d+) \(.*?\): (.*)$", minutes, re.M):
    votes = re.search(r"(\d+) in favour, (\d+) against", text)
    carried = "withdrawn" not in text and votes is not None and int(votes[1]) > int(votes[2])
    amendment = re.search(r"Amendment proposed by .*?: (.+?)\.", text)
    print(f"proposal {number}:", f"{votes[1]} for, {votes[2]} against" if votes else "withdrawn, no vote",
          "-> carried" if carried else "", f"(amended: {amendment[1]})" if amendment else "")
    if carried:
        adopted.append(int(number))
options = {"A": 1, "B": 2, "C": 3}
letter = next((key for key, number in options.items() if adopted == [number]), "D")
open("/testbed/answer.txt", "w").write(letter + "\n")
`,
        "A proposal is adopted when it comes to a vote and has more votes for than against; a withdrawn one never reaches the vote.",
      ),
      submit(),
    ],
    llm: "The homework club was withdrawn by its author because its cost with a caretaker exceeded the grant, and the carpet proposal lost 2 to 3. The memory bags proposal, amended to add large-print reminiscence books at 3,400 pounds, was carried 5 to 1.\n\nAnswer: C",
  },
  {
    id: "general-single-008",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "at least\\|measurement period\\|probation from" ${DOCS}/protocol-amendment-3.txt && head -3 ${DOCS}/enrollment.csv`,
        "Find the minimum-enrollment rule and its measurement period, then the export's columns.",
      ),
      solve(
        String.raw`import csv, re
from collections import Counter
rule = open("/testbed/documents/protocol-amendment-3.txt").read()
minimum = int(re.search(r"at least (\d+) participants in the first calendar quarter", rule).group(1))
enrolled = Counter()
for row in csv.DictReader(open("/testbed/documents/enrollment.csv")):
    if "2025-01" <= row["month"] <= "2025-03":
        enrolled[row["site"]] += int(row["enrolled"])
print("minimum:", minimum, dict(enrolled))
below = [site for site, total in enrolled.items() if total < minimum]
print("below the minimum:", below)
options = {"A": "Site 02 Bramford", "B": "Site 03 Carnforth", "C": "Site 04 Dunmere", "D": "Site 05 Elstow"}
open("/testbed/answer.txt", "w").write(next(k for k, v in options.items() if v in below) + "\n")
`,
        "Sum January to March enrollment per site (April does not count) and compare with the minimum.",
      ),
      submit(),
    ],
    llm: "Only enrollment from January to March 2025 counts toward the minimum of 12. Bramford enrolled 3 + 3 + 7 = 13, Carnforth 2 + 6 + 3 = 11, Dunmere 5 + 3 + 4 = 12 and Elstow 6 + 4 + 5 = 15. Carnforth alone falls short, so it went on probation from 1 April; its April enrollment does not count.\n\nAnswer: B",
  },
  {
    id: "general-multi-001",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/trail-bulletin.txt`,
        "The bulletin is short; read it whole.",
      ),
      solve(
        String.raw`import re
bulletin = open("/testbed/documents/trail-bulletin.txt").read()
WEEK = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
issued = re.search(r"bulletin, (\w+day) \d+ \w+", bulletin)[1]
trails = dict(re.findall(r"^([A-Z][\w ]+?) \([\d.]+ miles, [^)]*\)\. (.*)$", bulletin, re.M))
status = {trail: text.split(". ")[0] for trail, text in trails.items()}
print("issued on", issued, "| status:", status)
reopened = re.search(r"footbridge [^.]*?reopened on (\w+day)", trails["Cascade Falls Trail"])[1]
horse_days = re.search(r"Open to horses only at (weekends|weekdays)", trails["Old Mine Road"])[1]
birchwood_closed = re.search(r"Closed all day (\w+day \d+ \w+)", trails["Birchwood Nature Path"])[1]
dogs_banned = re.search(r"dogs [^.]*? not allowed on the (.+?) at any time", bulletin)[1]
spikes = re.search(r"Microspikes are [\w ]*?recommended above the ([\w ]+?) and", trails["Summit Traverse"])
print("footbridge reopened", reopened, "| horses at", horse_days, "| Birchwood closed", birchwood_closed,
      "| dogs banned on", dogs_banned, "| microspikes above", spikes and spikes[1])
claims = {
    "A": status["Cascade Falls Trail"] == "Open" and WEEK.index(reopened) <= WEEK.index(issued),
    "B": status["Hemlock Ridge Trail"] == "Open",
    "C": "Saturday" in {"weekends": WEEK[5:], "weekdays": WEEK[:5]}[horse_days],
    "D": birchwood_closed != "Saturday 19 October",
    "E": dogs_banned != "Summit Traverse",
    "F": spikes is not None and spikes[1] == "upper hut",
}
print(claims)
open("/testbed/answer.txt", "w").write(", ".join(letter for letter, true in claims.items() if true) + "\n")
`,
        "Take each trail's status and the days its rules name, and test every statement against them for Friday and Saturday.",
      ),
      submit(),
    ],
    llm: "The Cascade Falls footbridge reopened on Tuesday, so A holds. Hemlock Ridge is closed beyond the Hemlock Saddle junction, so B is false. Old Mine Road is open to horses at weekends, so C holds. The Birchwood Nature Path is closed all day Saturday 19 October, so D is false. Dogs are not allowed on the Summit Traverse at any time, so E is false. Microspikes are strongly recommended above the upper hut, so F holds.\n\nAnswer: A, C, F",
  },
  {
    id: "general-multi-002",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/inventory-count.csv && grep -n -i "available quantity\\|reorder point" ${DOCS}/reorder-rule.txt`,
        "Read the count and the exact reordering rule.",
      ),
      solve(
        String.raw`import csv
options = {"A": "SKU-1042", "B": "SKU-1077", "C": "SKU-1150", "D": "SKU-1188", "E": "SKU-1204", "F": "SKU-1239"}
reorder = []
for row in csv.DictReader(open("/testbed/documents/inventory-count.csv")):
    available = int(row["on_hand"]) + int(row["on_order"])
    due = available <= int(row["reorder_point"])
    print(row["sku"], "available", available, "reorder point", row["reorder_point"], "REORDER" if due else "")
    if due:
        reorder.append(row["sku"])
letters = [letter for letter, sku in options.items() if sku in reorder]
open("/testbed/answer.txt", "w").write(", ".join(letters) + "\n")
`,
        "Available means on hand plus on order; reorder when that is at or below the reorder point.",
      ),
      submit(),
    ],
    llm: "Available quantity is on hand plus on order, and an item is reordered when it is at or below its reorder point. Gloves: 38 <= 50, reorder. Disinfectant: 22 > 20, no. Sharps containers: 9 + 12 = 21 > 15, no. Face shields: 61 > 40, no. Hand sanitiser: 17 <= 30, reorder. Autoclave tape: 12 <= 12, reorder.\n\nAnswer: A, E, F",
  },
  {
    id: "general-multi-003",
    sandbox: [
      bash(`ls -l ${DOCS} && cat ${DOCS}/email-thread.txt`, "A single email thread; read it all."),
      solve(
        String.raw`import re
thread = open("/testbed/documents/email-thread.txt").read()
messages = thread.split("\n---\n")
first, decision = messages[0], next(m for m in messages if "Decision:" in m)
day_one = re.search(r"run for two days, (\d+)-\d+ (\w+)", first).expand(r"\1 \2")
cost = {}
for venue, base, terms in re.findall(r"the ([A-Z][\w ]+?) \(capacity \d+, ([\d,]+) euros([^)]*)\)", first):
    extra = re.search(r"audio-visual equipment is an extra ([\d,]+) euros", terms)
    cost[venue] = int(base.replace(",", "")) + (int(extra.group(1).replace(",", "")) if extra else 0)
venue = re.search(r"we book the (.+?) with the audio-visual package", decision).group(1)
keynote = re.search(r"keynote is confirmed for the \w+ of (\d+ \w+)", decision).group(1)
poster_day, poster_time = re.search(r"moved the poster session from the \w+ \w+ to the (\w+) (\w+)", decision).groups()
closes = re.search(r"Registration closes on (\d+ \w+)", decision).group(1)
print("costs with audio-visual:", cost, "| booked:", venue)
print("keynote:", keynote, "| poster session:", poster_day, poster_time, "(day one is", day_one + ")", "| registration closes:", closes)
claims = {
    "A": venue == "Harbour Pavilion",
    "B": cost[venue] == 8700,
    "C": keynote == "13 June",
    "D": (poster_day, poster_time, day_one) == ("first", "evening", "12 June"),
    "E": closes == "15 June",
}
print(claims)
open("/testbed/answer.txt", "w").write(", ".join(letter for letter, true in claims.items() if true) + "\n")
`,
        "The last message holds the decisions; price each venue with its audio-visual extra from the first one and test every statement.",
      ),
      submit(),
    ],
    llm: "The final decision books the University Great Hall, not the Harbour Pavilion, at 6,800 euros plus 1,900 for audio-visual equipment, which is 8,700 euros. The keynote is on the morning of 12 June, not 13 June. The poster session moves to the first evening, 12 June. Registration closes on 15 May, not 15 June. So B and D are correct.\n\nAnswer: B, D",
  },
  {
    id: "general-multi-004",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/calibration-register.csv && grep -n -i "overdue\\|audit\\b\\|takes place" ${DOCS}/sop-qa-014.txt`,
        "Read the register and how the SOP defines due and overdue.",
      ),
      solve(
        String.raw`import csv, re
from datetime import date, datetime, timedelta
sop = open("/testbed/documents/sop-qa-014.txt").read()
audit = datetime.strptime(re.search(r"takes place on (\d+ \w+ \d{4})", sop).group(1), "%d %B %Y").date()
options = {"A": "BAL-01", "B": "PIP-07", "C": "PH-02", "D": "THM-11", "E": "SPE-01", "F": "INC-05"}
overdue = []
for row in csv.DictReader(open("/testbed/documents/calibration-register.csv")):
    due = date.fromisoformat(row["last_calibrated"]) + timedelta(days=int(row["interval_days"]))
    late = audit > due
    print(row["instrument_id"], "due", due, "OVERDUE" if late else "")
    if late:
        overdue.append(row["instrument_id"])
letters = [letter for letter, instrument in options.items() if instrument in overdue]
open("/testbed/answer.txt", "w").write(", ".join(letters) + "\n")
`,
        "Due date is last calibration plus the interval; overdue only when the audit date is later.",
      ),
      submit(),
    ],
    llm: "Due dates (last calibration plus interval): BAL-01 31 August, PIP-07 18 September, PH-02 2 October, THM-11 14 October, SPE-01 30 September and INC-05 29 September 2024. On the 30 September audit, an instrument due that day is not yet overdue, so SPE-01 is fine; BAL-01, PIP-07 and INC-05 are overdue.\n\nAnswer: A, B, F",
  },
  {
    id: "general-multi-005",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "closed\\|open\\|saturday\\|sunday" ${DOCS}/closures-bulletin.txt`,
        "Find which roads are closed and on which day.",
      ),
      solve(
        String.raw`import re
bulletin = open("/testbed/documents/closures-bulletin.txt").read()
closed = {}
day, roads = re.search(r"closed to all vehicles on (\w+) .*?\.: (.+?)\.\s", bulletin).groups()
closed[day] = re.split(r",\s*(?:and\s+)?", roads)
roads, day = re.search(r"([A-Z][^.]*?) will be closed from .+? on (\w+) only\.", bulletin).groups()
closed[day] = [roads]
stays_open = re.findall(r"([A-Z]\w+ (?:Road|Street|Lane)) will stay open", bulletin)
print("closures:", closed, "| stays open:", stays_open)
options = {"A": "Quay Street", "B": "Station Road", "C": "Tannery Lane", "D": "Chapel Street", "E": "Bridge Road", "F": "Mill Road"}
saturday = [letter for letter, road in options.items()
            if road not in stays_open and any(road in closure for closure in closed.get("Saturday", []))]
open("/testbed/answer.txt", "w").write(", ".join(saturday) + "\n")
`,
        "Collect the roads each day's closure names, drop any the bulletin says stay open, and keep the options closed on Saturday.",
      ),
      submit(),
    ],
    llm: "On Saturday 22 June the half marathon closes Quay Street, the whole of Tannery Lane and Bridge Road between the roundabout and the war memorial. Station Road was listed by mistake and stays open. The northern end of Chapel Street closes on Sunday only, and Mill Road stays open, carrying the diverted buses.\n\nAnswer: A, C, E",
  },
  {
    id: "general-multi-006",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/training-records.csv && grep -n -i "signed off\\|empty cell" ${DOCS}/completion-rule.txt`,
        "Read the training export and the sign-off rule.",
      ),
      solve(
        String.raw`import csv
options = {"A": "Adaeze Nwosu", "B": "Bartholomew Kray", "C": "Chiara Lombardi", "D": "Dmitri Halloran", "E": "Esme Whitcombe", "F": "Farid Qasemi"}
signed_off = []
for row in csv.DictReader(open("/testbed/documents/training-records.csv")):
    missing = [module for module, done in row.items() if module != "employee" and not done]
    print(row["employee"], "missing:", missing or "none")
    if not missing:
        signed_off.append(row["employee"])
letters = [letter for letter, name in options.items() if name in signed_off]
open("/testbed/answer.txt", "w").write(", ".join(letters) + "\n")
`,
        "A starter is signed off only with all four modules completed; an empty cell means not done.",
      ),
      submit(),
    ],
    llm: "Signing off needs all four modules, and an empty cell means a module is not done. Bartholomew Kray has no data protection date, Dmitri Halloran no manual handling date and Farid Qasemi no first aid awareness date. Adaeze Nwosu, Chiara Lombardi and Esme Whitcombe have all four.\n\nAnswer: A, C, E",
  },
  {
    id: "general-multi-007",
    sandbox: [
      bash(
        `ls -l ${DOCS} && cat ${DOCS}/laptop-specs.csv && grep -n "^- " ${DOCS}/laptop-requirements.txt`,
        "Read the specifications and the list of requirements.",
      ),
      solve(
        String.raw`import csv, re
text = open("/testbed/documents/laptop-requirements.txt").read()
max_weight = float(re.search(r"no more than ([\d.]+) kg", text).group(1))
min_battery = float(re.search(r"at least (\d+) hours", text).group(1))
min_memory = int(re.search(r"at least (\d+) GB", text).group(1))
max_price = float(re.search(r"no more than ([\d,]+) USD", text).group(1).replace(",", ""))
print("limits:", max_weight, min_battery, min_memory, max_price)
options = {"A": "Corvid 14", "B": "Tessel Air 13", "C": "Brink Pro 15", "D": "Halden X14", "E": "Quill 13 Lite", "F": "Marlow Edge 14"}
qualifying = []
for row in csv.DictReader(open("/testbed/documents/laptop-specs.csv")):
    ok = (float(row["weight_kg"]) <= max_weight and float(row["battery_hours"]) >= min_battery
          and int(row["memory_gb"]) >= min_memory and float(row["price_usd"]) <= max_price)
    print(row["model"], "qualifies" if ok else "fails")
    if ok:
        qualifying.append(row["model"])
letters = [letter for letter, model in options.items() if model in qualifying]
open("/testbed/answer.txt", "w").write(", ".join(letters) + "\n")
`,
        "Check every model against all four limits (inclusive, as the wording says).",
      ),
      submit(),
    ],
    llm: "The limits are at most 1.45 kg, at least 12 hours of battery, at least 16 GB and at most 1,300 USD. Corvid 14 meets all four. Tessel Air 13 has only 11 hours. Brink Pro 15 is too heavy and too expensive. Halden X14 meets all four. Quill 13 Lite has 8 GB. Marlow Edge 14 sits exactly on the weight and battery limits, which are allowed.\n\nAnswer: A, D, F",
  },
  {
    id: "general-multi-008",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "percent\\|highlight\\|complaint\\|largest" ${DOCS}/visitor-survey-summary.txt`,
        "Pull out every figure in the summary to test each statement.",
      ),
      solve(
        String.raw`import re
text = open("/testbed/documents/visitor-survey-summary.txt", encoding="utf-8").read()
UNITS = "zero one two three four five six seven eight nine".split()
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
def percent(words):
    if words.isdigit():
        return int(words)
    tens, _, unit = words.lower().partition("-")
    return TENS[tens] + (UNITS.index(unit) if unit else 0)
first_time = percent(re.search(r"([\w-]+) percent of respondents were visiting for the first time", text).group(1))
now, before = map(int, re.search(r"(\d+) percent rated their visit good or excellent, compared with (\d+) percent in 2022", text).groups())
top, top_pct, second, second_pct = re.search(r"The new (.+?) was the most frequently named highlight, mentioned by (\d+) percent of respondents, ahead of the (.+?) \((\d+) percent\)", text).groups()
highlights = {top: int(top_pct), second: int(second_pct)}
cafe = int(re.search(r"complaint was the caf\w+, mentioned by (\d+) percent", text).group(1))
signage = int(re.search(r"Signage [^.]*? mentioned by (\d+) percent", text).group(1))
price_now, price_2022 = map(int, re.search(r"price of admission fell to (\d+) percent from (\d+) percent in 2022", text).groups())
complaints = {"cafe": cafe, "signage": signage, "admission price": price_now}
app = int(re.search(r"\((\d+) percent\) used the new audio guide app", text).group(1))
families = int(re.search(r"Families with children under twelve made up (\d+) percent", text).group(1))
adults = int(re.search(r"adults visiting without children made up (\d+) percent", text).group(1))
print("first-time", first_time, "| satisfaction", before, "->", now, "| highlights", highlights)
print("complaints", complaints, "| price complaints", price_2022, "->", price_now, "| app", app)
print("families", families, "| adults without children", adults, "| everyone else together", 100 - families - adults)
claims = {
    "A": first_time > 50,
    "B": now > before,
    "C": max(highlights, key=highlights.get) == "ship model collection",
    "D": max(complaints, key=complaints.get) == "cafe",
    "E": price_now < price_2022,
    "F": app == 50,
    "G": families > max(adults, 100 - families - adults),
}
print(claims)
open("/testbed/answer.txt", "w").write(", ".join(letter for letter, true in claims.items() if true) + "\n")
`,
        "Parse each percentage the statements depend on, with its 2022 figure where there is one, and compare.",
      ),
      submit(),
    ],
    llm: "First-time visitors were 41 percent, not a majority. Satisfaction rose to 88 percent from 86 percent in 2022. The lighthouse gallery (29 percent) was named more often than the ship models (22 percent). The café was the most common complaint at 18 percent. Complaints about admission prices fell from 11 to 6 percent. Only 25 percent used the audio guide app. Families with children under twelve were the largest single group at 37 percent.\n\nAnswer: B, D, E, G",
  },
  {
    id: "general-open-001",
    sandbox: [
      bash(
        `ls -l ${DOCS} && head -3 ${DOCS}/q3-spend.csv && grep -n -i "duplicate\\|leave entry" ${DOCS}/close-notes.txt`,
        "Look at the export and find the correction in the close notes.",
      ),
      solve(
        String.raw`import csv, re
notes = open("/testbed/documents/close-notes.txt").read()
duplicate = re.search(r"entry (E\d+) duplicates", notes).group(1)
total = 0
for row in csv.DictReader(open("/testbed/documents/q3-spend.csv")):
    if row["department"] == "Marketing" and row["entry"] != duplicate:
        total += int(row["amount_usd"])
print("left out", duplicate, "-> Marketing Q3 total", total)
open("/testbed/answer.txt", "w").write(f"{total}\n")
`,
        "Sum Marketing's entries for the quarter, leaving out the duplicate posting.",
      ),
      submit(),
    ],
    llm: "Marketing's entries come to 27,100 in July, 17,500 in August and 45,000 in September, 89,600 in all. The close notes say entry E0028 duplicates the September agency retainer of 12,000 and must be left out, which gives 77,600.\n\nAnswer: 77600",
  },
  {
    id: "general-open-002",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n "All fast\\|Last line" ${DOCS}/deck-log-extract.txt && grep -n -i "time alongside" ${DOCS}/masters-note.txt`,
        "List the arrivals and departures and check how time alongside is defined.",
      ),
      solve(
        String.raw`import re
from collections import defaultdict
from datetime import datetime
hours = defaultdict(float)
arrived = {}
for line in open("/testbed/documents/deck-log-extract.txt"):
    match = re.match(r"(\S+ \S+)\s+(All fast alongside|Last line let go), ([^.]+)\.", line)
    if not match:
        continue
    when = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M")
    port = match.group(3)
    if match.group(2).startswith("All fast"):
        arrived[port] = when
    else:
        hours[port] += (when - arrived.pop(port)).total_seconds() / 3600
print(dict(hours))
open("/testbed/answer.txt", "w").write(max(hours, key=hours.get) + "\n")
`,
        "Time alongside runs from all fast to last line; add it up per port over all calls.",
      ),
      submit(),
    ],
    llm: "Time alongside is from all fast to last line. Rotterdam 36.5 hours, Antwerp 16.75, Le Havre 36.75 + 20 = 56.75 over its two calls, Bilbao 32.5 + 14.5 = 47, Lisbon 39. Le Havre has the most.\n\nAnswer: Le Havre",
  },
  {
    id: "general-open-003",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "clock\\|site time" ${DOCS}/incident-report-FR-2024-031.txt`,
        "Which clock can be trusted? The report says something about clocks.",
      ),
      bash(
        `grep -n "MAINS" ${DOCS}/genset-controller-log.txt && grep "mains loss detected" ${DOCS}/genset-controller-log.txt | awk '{print $2}' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "The controller clock is synchronised to site time, so its mains-loss entry gives the time.",
      ),
      submit(),
    ],
    llm: "The generator controller's clock is synchronised to the site time server, while the BMS clock was 3 minutes fast and the guard's time was approximate. The controller logged the mains loss at 06:42:10, then ran its start delay.\n\nAnswer: 06:42:10",
  },
  {
    id: "general-open-004",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "percent\\|average" ${DOCS}/scoring-rules.txt && cat ${DOCS}/wf-2291-review-sheet.txt`,
        "Get the weights and the averaging rule, then the scores and the post-rebuttal changes.",
      ),
      solve(
        String.raw`import re
rules = open("/testbed/documents/scoring-rules.txt").read()
sheet = open("/testbed/documents/wf-2291-review-sheet.txt").read()
weights = {name: int(pct) / 100 for name, pct in re.findall(r"(significance|approach|team|budget) (\d+) percent", rules)}
header = re.search(r"^reviewer,(.+)$", sheet, re.M).group(1).split(",")
scores = {}
for line in re.findall(r"^(Reviewer \d+,[\d,]+)$", sheet, re.M):
    name, *values = line.split(",")
    scores[name] = dict(zip(header, map(int, values)))
for name, criterion, old, new in re.findall(r"^(Reviewer \d+): .*?(\w+) score revised from (\d+) to (\d+)", sheet, re.M):
    assert scores[name][criterion.lower()] == int(old)
    scores[name][criterion.lower()] = int(new)
overall = {name: sum(weights[c] * s for c, s in crit.items()) for name, crit in scores.items()}
print(overall)
final = sum(overall.values()) / len(overall)
open("/testbed/answer.txt", "w").write(f"{final:.1f}\n")
`,
        "Apply the revision, weight each reviewer's criteria and average the three overall scores.",
      ),
      submit(),
    ],
    llm: "Weights are 30/40/20/10. Reviewer 1: 25.5 + 28 + 18 + 8 = 79.5. Reviewer 2, with approach revised from 60 to 72: 22.5 + 28.8 + 16 + 7 = 74.3. Reviewer 3: 27 + 30 + 17 + 6 = 80.0. The average is 233.8 / 3 = 77.93, which is 77.9 to one decimal place.\n\nAnswer: 77.9",
  },
  {
    id: "general-open-005",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n "SUSPECT" ${DOCS}/march-2024-daily.csv && grep -n -i "check gauge\\|heavy rain day" ${DOCS}/station-note.txt`,
        "Find the flagged reading, its replacement and the definition of a heavy rain day.",
      ),
      solve(
        String.raw`import csv, re
note = open("/testbed/documents/station-note.txt").read()
replacement = float(re.search(r"recorded ([\d.]+) mm for that day", note).group(1))
heavy = []
for row in csv.DictReader(open("/testbed/documents/march-2024-daily.csv")):
    rain = replacement if row["gauge_flag"] == "SUSPECT" else float(row["rain_mm"])
    if rain > 10.0:
        heavy.append(row["date"][-2:])
print("heavy rain days:", heavy)
open("/testbed/answer.txt", "w").write(f"{len(heavy)}\n")
`,
        "Use the check gauge for the suspect day and count days strictly above 10.0 mm.",
      ),
      submit(),
    ],
    llm: "With the check gauge's 8.4 mm in place of the suspect 31.6 mm on 14 March, and counting only days above 10.0 mm (the four days of exactly 10.0 do not count), the heavy rain days are the 4th, 5th, 7th, 17th, 18th, 19th, 20th, 21st, 23rd, 24th and 27th.\n\nAnswer: 11",
  },
  {
    id: "general-open-006",
    sandbox: [
      bash(
        `ls -l ${DOCS} && tail -8 ${DOCS}/route-7-timetable.txt && grep -n "^[0-9]\\." ${DOCS}/service-change-notice.txt`,
        "See the last departures in the timetable and the numbered changes.",
      ),
      solve(
        String.raw`import re
timetable = open("/testbed/documents/route-7-timetable.txt").read()
notice = open("/testbed/documents/service-change-notice.txt").read()
after, shift = re.search(r"timetabled after (\d\d:\d\d) will leave Harbour Street (\d+) minutes earlier", notice).groups()
withdrawn = re.search(r"timetabled at (\d\d:\d\d), is withdrawn", notice).group(1)
minutes = lambda hhmm: int(hhmm[:2]) * 60 + int(hhmm[3:])
departures = []
for time in re.findall(r"^(\d\d:\d\d)$", timetable, re.M):
    if time == withdrawn:
        continue
    t = minutes(time) - (int(shift) if minutes(time) > minutes(after) else 0)
    departures.append(f"{t // 60:02d}:{t % 60:02d}")
print("evening departures from 3 March:", departures[-4:])
open("/testbed/answer.txt", "w").write(departures[-1] + "\n")
`,
        "Drop the withdrawn 23:10, move everything after 20:00 fifteen minutes earlier, take the last.",
      ),
      submit(),
    ],
    llm: "From 3 March the 23:10 departure is withdrawn, and every departure timetabled after 20:00 leaves 15 minutes earlier. The last remaining one, 22:40, therefore leaves at 22:25.\n\nAnswer: 22:25",
  },
  {
    id: "general-open-007",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "side\\|born" ${DOCS}/*.txt`,
        "Find which letter covers the father's side and what it says about births.",
      ),
      bash(
        `grep -o "She was born in [A-Z][a-z]*" ${DOCS}/letter-from-aunt-wilma.txt | awk '{print $NF}' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "Aunt Wilma writes about the father's side: grandmother Rosalind grew up in Sallowby but was born elsewhere.",
      ),
      submit(),
    ],
    llm: "The paternal side is the father's, which Aunt Wilma writes about. Grandmother Rosalind grew up in Sallowby, but her baptism certificate shows she was born in Wendlecombe. Granny Joan, born in Abbotsmere, is on the mother's side.\n\nAnswer: Wendlecombe",
  },
  {
    id: "general-open-008",
    sandbox: [
      bash(
        `ls -l ${DOCS} && grep -n -i "zone c\\|example" ${DOCS}/carrier-rate-card.txt && grep -c ",C," ${DOCS}/orders-week-6.csv`,
        "Get the zone C rate and how part kilograms are charged, and how many zone C parcels there are.",
      ),
      solve(
        String.raw`import csv, math, re
card = open("/testbed/documents/carrier-rate-card.txt").read()
first, extra = re.search(r"Zone C \(rest of the EU\): ([\d.]+) for the first kilogram, plus ([\d.]+)", card).groups()
total_cents = 0
for row in csv.DictReader(open("/testbed/documents/orders-week-6.csv")):
    if row["destination_zone"] != "C":
        continue
    tenths = round(float(row["weight_kg"]) * 10)
    additional = max(0, math.ceil((tenths - 10) / 10))
    cost = round(float(first) * 100) + additional * round(float(extra) * 100)
    print(row["order_id"], row["weight_kg"], additional, cost / 100)
    total_cents += cost
open("/testbed/answer.txt", "w").write(f"{total_cents / 100:.2f}\n")
`,
        "Each zone C parcel pays the first kilogram plus every started kilogram after it; sum in cents.",
      ),
      submit(),
    ],
    llm: "Zone C costs 7.40 for the first kilogram plus 1.15 per additional kilogram or part of one. The ten zone C parcels: 5.6 kg 13.15, 3.0 kg 9.70, 3.0 kg 9.70, 7.6 kg 15.45, 0.6 kg 7.40, 1.0 kg 7.40, 3.1 kg 10.85, 5.0 kg 12.00, 7.9 kg 15.45 and 4.6 kg 12.00, which sum to 113.10 euros.\n\nAnswer: 113.10",
  },
];
