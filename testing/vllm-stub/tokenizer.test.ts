import { describe, expect, it } from "vitest";
import { seededRandom } from "../../datasets/schedule.js";
import { SPECIAL_TOKENS, StubTokenizer } from "./tokenizer.js";

const tokenizer = new StubTokenizer();
const encode = (text: string): number[] => tokenizer.encode(text);

describe("StubTokenizer", () => {
  it("is not additive: merges cross the boundary between two texts", () => {
    // A leading space joins the next word.
    expect(encode("hello ")).toEqual([494, 32]);
    expect(encode("world")).toEqual([843]);
    expect(encode("hello world")).toEqual([494, 844]);
    // "o\n" is one token.
    expect(encode("go")).toEqual([103, 111]);
    expect(encode("\n")).toEqual([10]);
    expect(encode("go\n")).toEqual([103, 876]);
    // ".\n" is one token.
    expect([...encode("Done."), ...encode("\n")]).toEqual([404, 46, 10]);
    expect(encode("Done.\n")).toEqual([404, 881]);
    // "ing" is one token.
    expect([...encode("runni"), ...encode("ng")]).toEqual([691, 110, 105, 110, 103]);
    expect(encode("running")).toEqual([691, 110, 863]);
    // Numbers split by pairs from the left.
    expect([...encode("1"), ...encode("23")]).toEqual([49, 956]);
    expect(encode("123")).toEqual([945, 51]);
  });

  it("gives a word with a leading space one id of its own", () => {
    expect(encode(" hello")).toEqual([495]);
    expect(tokenizer.tokenText(495)).toBe(" hello");
    expect(tokenizer.tokenText(494)).toBe("hello");
  });

  it("decodes different id sequences to the same text", () => {
    const canonical = encode("hello world");
    const bytewise = tokenizer.encodeBytewise("hello world");
    const split = [494, 32, 843];
    expect(bytewise).toEqual([104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100]);
    expect(tokenizer.decode(canonical)).toBe("hello world");
    expect(tokenizer.decode(bytewise)).toBe("hello world");
    expect(tokenizer.decode(split)).toBe("hello world");
    expect(encode(tokenizer.decode(split))).toEqual(canonical);
  });

  it("round-trips random Unicode text, special-token strings included", () => {
    const random = seededRandom(20240611);
    const specials = SPECIAL_TOKENS.map((special) => special.text);
    const pick = (): string => {
      const roll = random();
      if (roll < 0.35) return String.fromCharCode(32 + Math.floor(random() * 95));
      if (roll < 0.45) return "\n";
      if (roll < 0.5) return specials[Math.floor(random() * specials.length)] ?? "";
      if (roll < 0.6) return [" hello", "ing", "o\n", ".\n", "42"][Math.floor(random() * 5)] ?? "";
      if (roll < 0.85) {
        // Any BMP code point outside the surrogate range.
        const code = Math.floor(random() * (0xffff - 0x80 - 0x800)) + 0x80;
        return String.fromCodePoint(code >= 0xd800 ? code + 0x800 : code);
      }
      return String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
    };
    for (let sample = 0; sample < 300; sample++) {
      const length = Math.floor(random() * 40);
      const text = Array.from({ length }, pick).join("");
      const ids = encode(text);
      expect(tokenizer.decode(ids)).toBe(text);
      expect(tokenizer.decode(tokenizer.encodeBytewise(text))).toBe(text);
    }
    expect(encode("naïve 🙂")).toEqual([110, 97, 195, 175, 118, 101, 32, 240, 159, 153, 130]);
  });

  it("keeps special tokens single ids that never merge with their neighbours", () => {
    for (const special of SPECIAL_TOKENS) expect(encode(special.text)).toEqual([special.id]);
    // "o\n" would merge, but not across a special token.
    expect(encode("go<|im_end|>\n")).toEqual([103, 111, 151645, 10]);
    expect(encode("<think>\nhello\n</think>\n\n")).toEqual([151667, 10, 494, 10, 151668, 886]);
    expect(encode("a<tool_call>b</tool_call>")).toEqual([97, 151657, 98, 151658]);
    expect(encode("<|im_start|><|im_end|>")).toEqual([151644, 151645]);
    // A partial special string is ordinary text.
    expect(encode("<|im_end")).toEqual([60, 124, 105, 109, 95, 870, 100]);
  });

  it("drops only the chat delimiters when skipping special tokens, as vLLM does", () => {
    const ids = encode("<think>\nok\n</think>\n\ndone<|im_end|>");
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(
      "<think>\nok\n</think>\n\ndone",
    );
    expect(tokenizer.decode(ids)).toBe("<think>\nok\n</think>\n\ndone<|im_end|>");
  });

  it("decodes invalid byte runs to U+FFFD and refuses ids outside the vocabulary", () => {
    expect(tokenizer.decode([195])).toBe("\uFFFD");
    expect(tokenizer.tokenText(240)).toBe("\uFFFD");
    expect(() => tokenizer.decode([tokenizer.regularVocabSize])).toThrow(
      `token id ${tokenizer.regularVocabSize} is not in the stub's vocabulary`,
    );
    expect(() => tokenizer.specialId("<tools>")).toThrow("'<tools>' is not a special token");
  });

  it("builds the same vocabulary every time", () => {
    const again = new StubTokenizer();
    expect(again.regularVocabSize).toBe(1033);
    expect(again.encode("The answer is 42.\n")).toEqual(encode("The answer is 42.\n"));
    expect(encode("The answer is 42.\n")).toEqual([753, 283, 536, 927, 50, 881]);
  });
});
