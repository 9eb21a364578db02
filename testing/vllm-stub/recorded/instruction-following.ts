import { type RecordedSolution, bash, create, submit } from "./types.js";

/** A turn running a Python check of the answer file, as a model would verify its draft. */
function check(program: string, reasoning: string) {
  return bash(`python3 - <<'EOF'\n${program}EOF`, reasoning);
}

const BOTTLE = `<<Cold All Day>>

Meet the Summit Steel Bottle: the reusable water bottle that keeps your drinks cold for a full day. Its double-wall vacuum insulation locks in the chill from the morning commute to the evening run. The stainless steel body shrugs off dents and never holds on to old flavours. A leak-proof lid means you can toss it in a bag without a second thought and the wide mouth takes ice cubes with ease. Every refill keeps one more plastic bottle out of landfills and oceans. Available now in five colours and two sizes. Fill it once and stay refreshed until the stars come out.
`;

const COVER_LETTER = `[Your Name]
[Your Address]
[Your Email] | [Your Phone Number]
[Date]

[Hiring Manager's Name]
[Library Name]
[Library Address]

Dear [Hiring Manager's Name],

I am writing to apply for the Library Assistant position at [Library Name], which I saw advertised on [where you found the posting]. I have always seen libraries as places where anyone can learn, and I would be glad to help keep yours welcoming, tidy and easy to use.

In my role at [current or previous employer], I [describe a relevant duty, such as serving customers or keeping records]. This taught me to stay patient with the public, to keep accurate records and to juggle several tasks at once. I am comfortable with computers and catalogue systems, and I enjoy helping people find exactly what they are looking for, whether that is a novel, a newspaper archive or a quiet place to study.

I am available to work [days and hours you can work] and could start on [start date]. I would welcome the chance to discuss how I could support your team. Thank you for considering my application.

Yours sincerely,
[Your Name]

Is there anything else I can help with?
`;

const TIDES = `Have you ever noticed that the sea creeps up the beach and then slides back again, twice every day? Those slow ups and downs are called tides. They happen because the moon is pulling on our planet all the time, even though it is very far away.

***

That pull is called gravity. Gravity is the same force that makes a ball fall back down when you throw it up. The moon's gravity tugs hardest on the side of Earth that faces it, so the ocean water there heaps up into a big bulge. Another bulge forms on the opposite side of Earth, where the water gets left behind a little.

***

As Earth spins around once a day, your beach passes through both bulges. When you are in a bulge the water is high, and when you are between them the water is low. The sun helps a little too, and when the sun and the moon line up, the tides are extra big!
`;

const ELECTRICITY = `here are five easy ways to cut your electricity use at home:

* switch to led bulbs, which use far less power than old incandescent ones and last for years.
* unplug chargers and turn off devices at the wall, because many keep drawing power on standby.
* wash clothes in cold water and run the washing machine and dishwasher only when they are full.
* set the fridge to about 4 degrees and the freezer to about minus 18, and keep their door seals clean.
* dry laundry on a line or rack instead of in the tumble dryer whenever the weather allows.
`;

const STORM = `THIS IS AN URGENT WEATHER WARNING FOR ALL RESIDENTS OF THE TOWN. A POWERFUL COASTAL STORM IS APPROACHING AND IS EXPECTED TO REACH OUR SHORE LATE THIS EVENING. FORECASTERS WARN OF GALE FORCE WINDS, HEAVY RAIN AND A DANGEROUS STORM SURGE ALONG THE HARBOUR AND THE SEAFRONT. PLEASE SECURE LOOSE OBJECTS, MOVE VEHICLES AWAY FROM LOW GROUND AND STAY AWAY FROM THE BEACH AND THE SEA WALL. IF YOU LIVE IN A FLOOD ZONE, BE READY TO LEAVE WHEN EMERGENCY SERVICES TELL YOU TO. KEEP A TORCH, WATER AND MEDICINES CLOSE AT HAND. STAY TUNED TO THIS STATION FOR UPDATES UNTIL THE STORM HAS PASSED, AND CHECK ON ELDERLY NEIGHBOURS BEFORE THE STORM ARRIVES.
`;

const PARK = `By two o'clock the city park is packed with people who have escaped their offices for an hour. *Joggers weave between strollers on the paths* while pigeons scatter ahead of them in grey clouds. Near the fountain a street musician plays an old jazz tune on a battered saxophone. Children shriek with delight as they chase soap bubbles across the lawn. *An elderly couple shares a bag of roasted chestnuts on a bench*, watching the crowd drift by. A group of students has spread blankets on the grass and is arguing cheerfully about a film. Somewhere a dog barks at a kite that dips too low over the pond. As the shadows grow longer, the park slowly empties and the noise of traffic returns.
`;

const NOVEL = `\`\`\`json
{
  "title": "The Lantern at Gull Point",
  "author": "Marguerite Ashdown",
  "year": 1987,
  "genres": ["mystery", "coastal noir", "detective fiction"]
}
\`\`\`
`;

const LADDER = `"Hi Sam,

I hope you and the family are well! I'm planning to clear the gutters and trim the hedge this weekend, and I realised my old ladder finally gave up last autumn. Would you mind if I borrowed yours on Saturday morning? I'd collect it around nine and have it back by Sunday afternoon, clean and in one piece.

If the weekend doesn't suit you, just let me know and I'll work around your plans. Thanks so much, and the kettle is always on if you fancy a cup of tea.

Best wishes,
Alex

P.S. I still have your casserole dish from the street party, so I'll bring it back when I pick up the ladder."
`;

const MARATHON = `Runners, this is your morning: remember every early run, every rainy mile and every hard rep that brought you here to the starting line. Trust your training, run your own race and let the roar of the crowd carry you through the rougher stretches. When you cross that finish line, you will forever be a marathoner!
`;

const LIBRARIES = `Public libraries give every resident free access to books and computers and quiet places to study. They host story times for toddlers and job clinics for adults and classes for seniors learning new skills. Librarians help people find trustworthy information and connect newcomers with local services. A library is one of the few warm public spaces where nobody has to buy anything to belong. It keeps a town curious and connected. See you at the library.
`;

export const instructionFollowingSolutions: RecordedSolution[] = [
  {
    id: "if-001",
    sandbox: [
      create(
        "/testbed/answer.txt",
        BOTTLE,
        "A short announcement with a <<title>>, no commas at all and under 120 words.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("words:", len(re.findall(r"\\w+", text)), "(limit: fewer than 120)")
print("commas:", text.count(","))
print("title:", re.findall(r"<<[^\\n]+>>", text))
`,
        "Count the words and commas and confirm the title is there.",
      ),
      submit(),
    ],
    llm: BOTTLE,
  },
  {
    id: "if-002",
    sandbox: [
      create(
        "/testbed/answer.txt",
        COVER_LETTER,
        "A cover letter template with bracketed placeholders, ending on the exact closing phrase.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("placeholders:", len(re.findall(r"\\[.*?\\]", text)))
print("ends with phrase:", text.strip().endswith("Is there anything else I can help with?"))
`,
        "Count the placeholders and check that nothing follows the closing phrase.",
      ),
      submit(),
    ],
    llm: COVER_LETTER,
  },
  {
    id: "if-003",
    sandbox: [
      create(
        "/testbed/answer.txt",
        TIDES,
        "Three short paragraphs for a child, split by *** dividers, naming the moon and gravity.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
paragraphs = [p for p in re.split(r"\\s?\\*\\*\\*\\s?", text) if p.strip()]
print("paragraphs:", len(paragraphs))
print("moon:", "moon" in text.lower(), "gravity:", "gravity" in text.lower())
`,
        "Split on the dividers to count the paragraphs and look for both keywords.",
      ),
      submit(),
    ],
    llm: TIDES,
  },
  {
    id: "if-004",
    sandbox: [
      create(
        "/testbed/answer.txt",
        ELECTRICITY,
        "Five '* ' bullets of energy-saving tips, everything in lowercase.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("bullets:", len(re.findall(r"^\\s*\\*[^*].*$", text, re.M)) + len(re.findall(r"^\\s*-.*$", text, re.M)))
print("capital letters:", sum(c.isupper() for c in text))
`,
        "Count the bullet lines and make sure there is no capital letter anywhere.",
      ),
      submit(),
    ],
    llm: ELECTRICITY,
  },
  {
    id: "if-005",
    sandbox: [
      create(
        "/testbed/answer.txt",
        STORM,
        "A radio storm warning in capital letters, using 'storm' several times and over 60 words.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("all capitals:", text.upper() == text)
print("storm:", len(re.findall("storm", text, re.I)))
print("words:", len(re.findall(r"\\w+", text)))
`,
        "Check the case, the keyword count and the word count.",
      ),
      submit(),
    ],
    llm: STORM,
  },
  {
    id: "if-006",
    sandbox: [
      create(
        "/testbed/answer.txt",
        PARK,
        "A park scene of eight sentences with two *highlighted* parts, avoiding the two banned words.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("forbidden:", re.findall(r"\\b(green|tree)\\b", text, re.I))
print("sentences:", len(re.findall(r"[.!?](\\s|$)", text)))
print("highlights:", re.findall(r"\\*[^\\n*]+\\*", text))
`,
        "Look for the forbidden words, count the sentences and list the highlights.",
      ),
      submit(),
    ],
    llm: PARK,
  },
  {
    id: "if-007",
    sandbox: [
      create(
        "/testbed/answer.txt",
        NOVEL,
        "An invented mystery novel as a JSON object with the four keys, in a json code block.",
      ),
      check(
        `import json
text = open("/testbed/answer.txt").read().strip()
body = text.removeprefix("\`\`\`json").removesuffix("\`\`\`")
print("keys:", sorted(json.loads(body)))
print("contains 'unknown':", "unknown" in text.lower())
`,
        "Parse the JSON inside the fence and check the forbidden word is absent.",
      ),
      submit(),
    ],
    llm: NOVEL,
  },
  {
    id: "if-008",
    sandbox: [
      create(
        "/testbed/answer.txt",
        LADDER,
        "A friendly note in double quotation marks, with a P.S. at the end inside the quotes.",
      ),
      check(
        `text = open("/testbed/answer.txt").read().strip()
print("quoted:", text.startswith('"') and text.endswith('"'))
print("postscript:", "P.S." in text)
`,
        "Confirm the whole note is wrapped in quotes and has the postscript.",
      ),
      submit(),
    ],
    llm: LADDER,
  },
  {
    id: "if-009",
    sandbox: [
      create(
        "/testbed/answer.txt",
        MARATHON,
        "Three energetic sentences full of words with the letter r.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("letter r:", text.lower().count("r"))
print("sentences:", len(re.findall(r"[.!?](\\s|$)", text)))
`,
        "Count the letter r and the sentences.",
      ),
      submit(),
    ],
    llm: MARATHON,
  },
  {
    id: "if-010",
    sandbox: [
      create(
        "/testbed/answer.txt",
        LIBRARIES,
        "A comma-free summary under 80 words that ends with the required sentence.",
      ),
      check(
        `import re
text = open("/testbed/answer.txt").read()
print("words:", len(re.findall(r"\\w+", text)), "(limit: fewer than 80)")
print("commas:", text.count(","))
print("ending:", text.strip().endswith("See you at the library."))
`,
        "Count words and commas and check the ending.",
      ),
      submit(),
    ],
    llm: LIBRARIES,
  },
];
