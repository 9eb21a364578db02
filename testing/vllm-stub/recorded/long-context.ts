import { type RecordedSolution, bash, submit } from "./types.js";

const DOCS = "/testbed/documents";

/** The first look at a task's four long documents: their sizes, not their contents. */
const SURVEY = bash(
  `ls -l ${DOCS} && wc -l -w ${DOCS}/*`,
  "Four documents of tens of thousands of words: search and compute over the files instead of reading them whole.",
);

/** A turn running a Python program given on stdin. */
function python(program: string, reasoning: string) {
  return bash(`python3 - <<'EOF'\n${program}EOF`, reasoning);
}

/** A turn running a Python program that writes the answer file, then showing that file. */
function solve(program: string, reasoning: string) {
  return bash(`python3 - <<'EOF'\n${program}EOF\ncat /testbed/answer.txt`, reasoning);
}

/**
 * A Python fragment that parses the incident log into one dict per incident: the header
 * fields (id, reported, site, severity) and the summary and resolution lines.
 */
const READ_INCIDENTS = String.raw`import re
incidents = []
for block in open("/testbed/documents/incident-log.txt").read().split("\n\n"):
    header = re.match(r"(INC-\S+) \| (\S+ \S+) \| Site: (.+?) \| Severity: (\d)", block)
    if header:
        hours = re.search(r"Time to resolution: ([\d.]+) hours", block)
        incidents.append({"id": header.group(1), "reported": header.group(2), "site": header.group(3),
                          "severity": int(header.group(4)), "hours": float(hours.group(1)), "text": block})
print(len(incidents), "incidents")
`;

export const longContextSolutions: RecordedSolution[] = [
  {
    id: "long-context-001",
    sandbox: [
      SURVEY,
      bash(
        `head -3 ${DOCS}/ledger.csv && cut -d, -f4 ${DOCS}/ledger.csv | sort | uniq -c`,
        "The ledger is a plain CSV; check the columns and the category names.",
      ),
      solve(
        String.raw`import csv
from collections import defaultdict
totals = defaultdict(float)
for row in csv.DictReader(open("/testbed/documents/ledger.csv")):
    if row["category"] == "Energy":
        totals[row["site"]] += float(row["amount_usd"])
for site, total in sorted(totals.items(), key=lambda item: -item[1]):
    print(f"{site:18s} {total:12.2f}")
open("/testbed/answer.txt", "w").write(max(totals, key=totals.get) + "\n")
`,
        "Sum the Energy rows by depot over the whole ledger and take the largest.",
      ),
      submit(),
    ],
    llm: "Adding up the ledger's Energy entries for each depot across the whole period, Saltmarsh Quay comes to about 324,495 dollars, far ahead of Ferrybridge East (about 185,334) and Dunmore Road (about 152,645).\n\nAnswer: Saltmarsh Quay",
  },
  {
    id: "long-context-002",
    sandbox: [
      SURVEY,
      bash(
        `sed -n 1,9p ${DOCS}/incident-log.txt`,
        "See how an incident entry is laid out, in particular the time to resolution.",
      ),
      python(
        `${READ_INCIDENTS}longest = max(incidents, key=lambda incident: incident["hours"])
print(longest["text"])
`,
        "Parse every incident and find the one with the longest time to resolution.",
      ),
      bash(
        `grep -n "(site manager)$" ${DOCS}/committee-minutes.md`,
        "It happened at Brackwater. The first meeting's minutes list the site managers.",
      ),
      bash(
        `grep "^- Brackwater depot:" ${DOCS}/committee-minutes.md | sed -E 's/^- .* depot: (.*) \\(site manager\\)$/\\1/' > /testbed/answer.txt && cat /testbed/answer.txt`,
        "The minutes say the managers stay in post for the whole period, so Brackwater's manager is the answer.",
      ),
      submit(),
    ],
    llm: "The longest time to resolution in the incident log is INC-2023-0014, a near miss at Brackwater reported on 25 January 2023 and resolved after 125.8 hours. The first meeting's minutes list the site managers, unchanged for the whole period, and Brackwater's is Dariusz Pryce.\n\nAnswer: Dariusz Pryce",
  },
  {
    id: "long-context-003",
    sandbox: [
      SURVEY,
      bash(
        `grep -n "project lead for Project Foxglove" ${DOCS}/committee-minutes.md`,
        "Find who was appointed to lead Project Foxglove.",
      ),
      solve(
        String.raw`import re
minutes = open("/testbed/documents/committee-minutes.md").read()
letters = open("/testbed/documents/correspondence.txt").read()
lead = re.search(r"(\w+ \w+) was appointed project lead for Project Foxglove", minutes).group(1)
moves = re.findall(re.escape(lead) + r" will transfer to the (.+?) farm from (\w+ \d+ \w+ \d{4})", letters)
print("lead:", lead, "transfers:", moves)
open("/testbed/answer.txt", "w").write(moves[0][0] + "\n")
`,
        "Take the lead's name from the minutes and look for their transfer in the correspondence.",
      ),
      submit(),
    ],
    llm: "The minutes record that Talia Sorvali was appointed project lead for Project Foxglove. Much later, a staff-move email confirms that Talia Sorvali will transfer to the Tarsay Sound farm from Saturday 19 November 2022.\n\nAnswer: Tarsay Sound",
  },
  {
    id: "long-context-004",
    sandbox: [
      SURVEY,
      bash(
        `sed -n 1,4p ${DOCS}/incident-log.txt && grep -c "Site: Ardvane" ${DOCS}/incident-log.txt`,
        "Check the header format of an incident and how many Ardvane incidents there are in all.",
      ),
      solve(
        `${READ_INCIDENTS}matches = [i["id"] for i in incidents
           if i["site"] == "Ardvane" and i["severity"] == 1 and i["reported"].startswith("2022-")]
print(matches)
open("/testbed/answer.txt", "w").write(f"{len(matches)}\\n")
`,
        "Count incidents at Ardvane with severity 1 reported in 2022.",
      ),
      submit(),
    ],
    llm: "Going through the incident log for Ardvane in 2022, the severity 1 incidents are INC-2022-0039, 0092, 0098, 0102, 0105, 0108, 0115 and 0120, eight in all.\n\nAnswer: 8",
  },
  {
    id: "long-context-005",
    sandbox: [
      SURVEY,
      bash(
        `grep -n "TR-2116" ${DOCS}/*`,
        "Find every mention of the serial number: incidents and the replacement approval.",
      ),
      solve(
        `${READ_INCIDENTS}from datetime import datetime
first = min((i for i in incidents if "TR-2116" in i["text"]), key=lambda i: i["reported"])
meetings = open("/testbed/documents/committee-minutes.md").read().split("\\n## Meeting ")
approval = next(m for m in meetings if re.search(r"approved the replacement of .* serial number TR-2116\\b", m))
held = datetime.strptime(re.match(r"\\d+: \\w+ (\\d+ \\w+ \\d{4})", approval).group(1), "%d %B %Y")
reported = datetime.strptime(first["reported"][:10], "%Y-%m-%d")
print(first["id"], first["reported"], "->", held.date())
open("/testbed/answer.txt", "w").write(f"{(held - reported).days}\\n")
`,
        "Take the earliest incident naming TR-2116 and the date of the meeting that approved its replacement.",
      ),
      submit(),
    ],
    llm: "The first incident involving the fuel dispenser TR-2116 is INC-2023-0065 at Eastfield on 30 April 2023. The committee approved replacing it at its meeting of Tuesday 17 September 2024. From 30 April 2023 to 17 September 2024 is 506 days.\n\nAnswer: 506",
  },
  {
    id: "long-context-006",
    sandbox: [
      SURVEY,
      bash(
        `head -2 ${DOCS}/ledger.csv && grep -c "Stannard Vehicle Hire" ${DOCS}/ledger.csv`,
        "Check the ledger columns and how often the vendor appears.",
      ),
      solve(
        String.raw`import csv
total = 0.0
for row in csv.DictReader(open("/testbed/documents/ledger.csv")):
    if (row["vendor"] == "Stannard Vehicle Hire" and row["site"] == "Oldcastle"
            and "2024-10-01" <= row["date"] <= "2024-12-31"):
        print(row["entry_id"], row["date"], row["amount_usd"])
        total += float(row["amount_usd"])
open("/testbed/answer.txt", "w").write(f"{total:.2f}\n")
`,
        "Sum the vendor's Oldcastle entries dated October to December 2024.",
      ),
      submit(),
    ],
    llm: "In the ledger, Stannard Vehicle Hire has four Oldcastle entries in the fourth quarter of 2024: L-00538 (3,710.21), L-00541 (5,600.50), L-00551 (9,360.31) and L-00555 (6,747.66). Together they come to 25,418.68 dollars.\n\nAnswer: 25418.68",
  },
  {
    id: "long-context-007",
    sandbox: [
      SURVEY,
      bash(
        `grep -n -i "terminat" ${DOCS}/committee-minutes.md ${DOCS}/correspondence.txt`,
        "Find the termination decision and when it took effect.",
      ),
      solve(
        String.raw`import csv, re
from datetime import datetime
minutes = open("/testbed/documents/committee-minutes.md").read()
vendor, effective = re.search(r"terminate the contract with (.+?), effective \w+ (\d+ \w+ \d{4})", minutes).groups()
cutoff = datetime.strptime(effective, "%d %B %Y").date().isoformat()
paid = [float(row["amount_usd"]) for row in csv.DictReader(open("/testbed/documents/ledger.csv"))
        if row["vendor"] == vendor and row["date"] < cutoff]
print(vendor, "before", cutoff, ":", len(paid), "entries")
open("/testbed/answer.txt", "w").write(f"{sum(paid):.2f}\n")
`,
        "Sum the ledger's payments to that supplier dated before the effective date.",
      ),
      submit(),
    ],
    llm: "The minutes record that the committee resolved to terminate the contract with Moorside Civil Engineering, effective Monday 3 April 2023. The ledger has 23 payments to Moorside Civil Engineering before that date, totalling 177,782.41 dollars.\n\nAnswer: 177782.41",
  },
  {
    id: "long-context-008",
    sandbox: [
      SURVEY,
      bash(
        `head -3 ${DOCS}/ledger.csv && cut -d, -f3 ${DOCS}/ledger.csv | sort | uniq -c`,
        "Check the ledger columns and the names of the works.",
      ),
      solve(
        String.raw`import csv
from collections import defaultdict
spend = defaultdict(float)
for row in csv.DictReader(open("/testbed/documents/ledger.csv")):
    spend[row["site"], row["date"][:4]] += float(row["amount_usd"])
sites = sorted({site for site, _ in spend})
change = {site: spend[site, "2023"] - spend[site, "2022"] for site in sites}
for site in sorted(sites, key=lambda site: -change[site]):
    print(f"{site:14s} 2022 {spend[site, '2022']:12.2f}  2023 {spend[site, '2023']:12.2f}  change {change[site]:12.2f}")
open("/testbed/answer.txt", "w").write(max(change, key=change.get) + "\n")
`,
        "Total each works' spending by year and compare 2023 with 2022.",
      ),
      submit(),
    ],
    llm: "Totalling the ledger by works and year, Whinfell went from about 251,577 dollars in 2022 to about 462,562 in 2023, an increase of about 210,984. The next largest increase, Ashcombe's, was only about 33,796, and Orrin Bridge and Coldharbour fell.\n\nAnswer: Whinfell",
  },
];
