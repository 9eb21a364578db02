"""The tiny policy's parts: tokenizer, chat template, model (cache vs batched forward), sampler."""

import json
import os
import tempfile
import threading
import time
import unittest

import torch

from examples.tiny.engine import Aborted, Engine, _shape_logits
from examples.tiny.init import fresh
from examples.tiny.model import TinyLM
from examples.tiny.template import parse_completion, render
from examples.tiny.tokenizer import TinyTokenizer

TOK = TinyTokenizer.load()
CAT = '<tool_call>\n{"name": "execute_bash", "arguments": {"command": "cat /testbed/documents/code.txt"}}\n</tool_call>'


class TokenizerTest(unittest.TestCase):
    def test_round_trips_any_text_with_byte_fallback(self):
        for text in ["Hello", "naïve ∑ 日本", CAT, "<|im_start|>user\nhi<|im_end|>\n", ""]:
            self.assertEqual(TOK.decode(TOK.encode(text)), text)

    def test_takes_the_longest_piece(self):
        self.assertEqual(TOK.encode(CAT), [TOK.piece_ids[CAT]])
        self.assertEqual(TOK.encode("7"), [TOK.piece_ids["7"]])
        # "é" has no piece: its two UTF-8 bytes are two byte tokens.
        self.assertEqual(TOK.encode("é"), [TOK.byte_base + 0xC3, TOK.byte_base + 0xA9])


class TemplateTest(unittest.TestCase):
    def test_a_parsed_tool_call_re_renders_to_the_sampled_text(self):
        sampled = CAT + "<|im_end|>"
        content, calls = parse_completion(CAT, tools_offered=True)
        self.assertIsNone(content)
        self.assertEqual(calls, [{"name": "execute_bash",
                                  "arguments": '{"command": "cat /testbed/documents/code.txt"}'}])
        message = {"role": "assistant", "content": content,
                   "tool_calls": [{"id": "c", "type": "function", "function": calls[0]}]}
        prompt = render([{"role": "user", "content": "q"}], None, True)
        history = render([{"role": "user", "content": "q"}, message], None, False)
        self.assertEqual(history, prompt + sampled + "\n")

    def test_leaves_a_bad_block_as_content(self):
        text = "<tool_call>\n{not json}\n</tool_call>"
        self.assertEqual(parse_completion(text, True), (text, []))
        self.assertEqual(parse_completion(CAT, False), (CAT, []))

    def test_renders_tool_results_as_a_user_turn(self):
        text = render([{"role": "tool", "content": "Exit code: 0", "tool_call_id": "c"}], None, False)
        self.assertEqual(text, "<|im_start|>user\n<tool_response>\nExit code: 0\n</tool_response><|im_end|>\n")


class ModelTest(unittest.TestCase):
    def test_cached_steps_match_the_batched_forward(self):
        ids = torch.tensor([TOK.encode(render([{"role": "user", "content": "What is 2+2?"}], None, True))])
        for positions in ("alibi", "sinusoidal"):
            model = fresh(1, positions=positions).eval()
            with torch.no_grad():
                full, _ = model(ids)
                logits, cache = model(ids[:, :4])
                steps = [logits]
                for position in range(4, ids.shape[1]):
                    logits, cache = model(ids[:, position:position + 1], past=cache)
                    steps.append(logits)
            self.assertLess(float((torch.cat(steps, 1) - full).abs().max()), 1e-5, positions)

    def test_positions_change_the_output_and_old_checkpoints_stay_sinusoidal(self):
        ids = torch.tensor([TOK.encode("What is the code in code.txt?")])
        alibi = fresh(4).eval()
        self.assertEqual(alibi.config.positions, "alibi")
        sinusoidal = fresh(4, positions="sinusoidal").eval()
        sinusoidal.load_state_dict(alibi.state_dict())  # same weights, other positions
        with torch.no_grad():
            self.assertGreater(float((alibi(ids)[0] - sinusoidal(ids)[0]).abs().max()), 1e-3)
        with tempfile.TemporaryDirectory() as directory:
            sinusoidal.save(directory)
            path = os.path.join(directory, "config.json")
            with open(path) as handle:
                config = json.load(handle)
            del config["positions"]  # as written before the key existed
            with open(path, "w") as handle:
                json.dump(config, handle)
            self.assertEqual(TinyLM.load(directory).config.positions, "sinusoidal")
        with self.assertRaisesRegex(ValueError, "positions 'rope'"):
            fresh(4, positions="rope")

    def test_right_padding_does_not_change_real_tokens(self):
        model = fresh(2).eval()
        a, b = TOK.encode("short"), TOK.encode("a longer text here")
        batch = torch.full((2, len(b)), TOK.pad_id)
        batch[0, :len(a)] = torch.tensor(a)
        batch[1] = torch.tensor(b)
        mask = (torch.arange(len(b)) < torch.tensor([[len(a)], [len(b)]])).long()
        with torch.no_grad():
            padded = model.token_logprobs(batch, mask)
            alone = model.token_logprobs(torch.tensor([a]), torch.ones(1, len(a), dtype=torch.long))
        self.assertLess(float((padded[0, :len(a) - 1] - alone[0]).abs().max()), 1e-5)

    def test_saves_and_loads_a_checkpoint_exactly(self):
        model = fresh(3)
        with tempfile.TemporaryDirectory() as directory:
            model.save(directory)
            self.assertEqual(sorted(os.listdir(directory)), ["config.json", "model.pt"])
            again = TinyLM.load(directory)
        for name, tensor in model.state_dict().items():
            self.assertTrue(torch.equal(tensor, again.state_dict()[name]), name)


class EngineTest(unittest.TestCase):
    def test_seeded_sampling_repeats_and_logprobs_are_the_raw_models(self):
        engine = Engine(fresh(4), TOK)
        prompt = TOK.encode(render([{"role": "user", "content": "Hello"}], None, True))
        first = engine.generate(prompt, 10, {"temperature": 0.7, "top_k": 20, "seed": 9})
        again = engine.generate(prompt, 10, {"temperature": 0.7, "top_k": 20, "seed": 9})
        self.assertEqual(first.ids, again.ids)
        with torch.no_grad():
            scored = engine.model.token_logprobs(
                torch.tensor([prompt + first.ids]), torch.ones(1, len(prompt) + len(first.ids)))
        raw = scored[0, len(prompt) - 1:].tolist()
        for sampled, trained in zip(first.logprobs, raw):
            self.assertAlmostEqual(sampled, trained, delta=1e-5)

    def test_shapes_the_distribution_as_asked(self):
        logits = torch.tensor([3.0, 2.0, 1.0, 0.0])
        top_k = _shape_logits(logits, {"temperature": 1, "top_k": 2}, [], [])
        self.assertEqual(torch.isinf(top_k).tolist(), [False, False, True, True])
        # softmax([3,2,1,0]) = .64, .24, .09, .03: top_p 0.7 keeps the first two.
        top_p = _shape_logits(logits, {"temperature": 1, "top_p": 0.7}, [], [])
        self.assertEqual(torch.isinf(top_p).tolist(), [False, False, True, True])
        hot = _shape_logits(logits, {"temperature": 2}, [], [])
        self.assertTrue(torch.allclose(hot, logits / 2))

    def test_keep_freezes_a_request_until_resume_and_abort_ends_it(self):
        model = fresh(5)
        with torch.no_grad():  # never ends its turn: the request runs until it is paused
            model.head.bias[TOK.im_end_id] = -1e4
        engine = Engine(model, TOK)
        prompt = TOK.encode("x")
        results = {}

        def run(name):
            try:
                results[name] = engine.generate(prompt, 3000, {"temperature": 1, "seed": 1})
            except Aborted as error:
                results[name] = error

        def in_flight():
            deadline = time.monotonic() + 30
            while engine._in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            self.assertEqual(engine._in_flight, 1)

        worker = threading.Thread(target=run, args=("kept",))
        worker.start()
        in_flight()
        engine.pause("keep")
        time.sleep(0.2)
        self.assertTrue(worker.is_alive())
        engine.resume()
        worker.join(120)
        self.assertEqual(len(results["kept"].ids), 3000)
        worker = threading.Thread(target=run, args=("aborted",))
        worker.start()
        in_flight()
        engine.pause("abort")
        worker.join(30)
        engine.resume()
        self.assertIsInstance(results["aborted"], Aborted)


if __name__ == "__main__":
    unittest.main()
