"""The reference trainer's loss: a rollout counts once however many rows merge mismatches split
it into, clipping and truncated importance sampling act as documented."""

import unittest

import torch

from sandfarm_bridge.trainer.loss import AGGREGATIONS, LossConfig, aggregate, policy_loss

# Two rollouts: A with 4 trained tokens, B with 2. Logprobs of the new policy are parameters.
NEW_A = [-1.0, -2.0, -0.5, -1.5]
NEW_B = [-0.7, -0.2]
OLD_A = [-1.1, -1.9, -0.6, -1.4]
OLD_B = [-0.6, -0.3]


def sgd_step(new: torch.Tensor, old, advantages, mask, rollout_index, config):
    parameter = new.clone().requires_grad_(True)
    loss, _ = policy_loss(parameter, old, old.clone(), advantages, mask, rollout_index, config)
    loss.backward()
    with torch.no_grad():
        return float(loss), parameter - 0.1 * parameter.grad


class SplitRolloutTest(unittest.TestCase):
    def test_a_split_rollout_trains_the_weights_as_the_whole_one_in_every_aggregation(self):
        # Whole: row 0 is A, row 1 is B (padded). Split: A's tokens over rows 0 and 1, B in row 2.
        whole_new = torch.tensor([NEW_A, NEW_B + [0.0, 0.0]])
        whole_old = torch.tensor([OLD_A, OLD_B + [0.0, 0.0]])
        whole_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
        whole_index = torch.tensor([0, 1])
        whole_adv = torch.tensor([0.8, -0.4])
        split_new = torch.tensor([NEW_A[:2] + [0.0, 0.0], NEW_A[2:] + [0.0, 0.0], NEW_B + [0.0, 0.0]])
        split_old = torch.tensor([OLD_A[:2] + [0.0, 0.0], OLD_A[2:] + [0.0, 0.0], OLD_B + [0.0, 0.0]])
        split_mask = torch.tensor([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]])
        split_index = torch.tensor([0, 0, 1])
        split_adv = torch.tensor([0.8, 0.8, -0.4])  # the rollout's rows share its advantage
        for aggregation in AGGREGATIONS:
            config = LossConfig(aggregation=aggregation)
            whole_loss, whole_after = sgd_step(whole_new, whole_old, whole_adv, whole_mask, whole_index, config)
            split_loss, split_after = sgd_step(split_new, split_old, split_adv, split_mask, split_index, config)
            self.assertAlmostEqual(whole_loss, split_loss, places=6, msg=aggregation)
            after_a = torch.cat([split_after[0, :2], split_after[1, :2]])
            self.assertTrue(torch.allclose(whole_after[0], after_a, atol=1e-7), aggregation)
            self.assertTrue(torch.allclose(whole_after[1, :2], split_after[2, :2], atol=1e-7), aggregation)

    def test_sequence_means_weigh_rollouts_not_rows(self):
        token_loss = torch.tensor([[1.0, 1.0], [1.0, 1.0], [4.0, 0.0]])
        mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
        index = torch.tensor([0, 0, 1])  # rollout 0 in two rows: token sum 4, mean 1; rollout 1: 4, 4
        self.assertAlmostEqual(float(aggregate(token_loss, mask, index, LossConfig(aggregation="seq-mean-token-sum"))), 4.0)
        self.assertAlmostEqual(float(aggregate(token_loss, mask, index, LossConfig(aggregation="seq-mean-token-mean"))), 2.5)
        self.assertAlmostEqual(float(aggregate(token_loss, mask, index, LossConfig(aggregation="token-mean"))), 8.0 / 5)
        dr_grpo = LossConfig(aggregation="seq-mean-token-sum", token_sum_norm=4.0)
        self.assertAlmostEqual(float(aggregate(token_loss, mask, index, dr_grpo)), 1.0)


class ClipAndTisTest(unittest.TestCase):
    def test_a_token_past_the_clip_range_gets_no_gradient(self):
        old = torch.tensor([[0.0, 0.0]]).log_softmax(-1) * 0 - 1.0  # both old logprobs -1
        new = torch.tensor([[-1.0 + 0.5, -1.0 + 0.1]], requires_grad=True)  # ratios e^0.5, e^0.1
        loss, metrics = policy_loss(new, old, old.clone(), torch.tensor([1.0]), torch.ones(1, 2),
                                    torch.tensor([0]), LossConfig(clip_low=0.2, clip_high=0.28))
        loss.backward()
        self.assertEqual(float(new.grad[0, 0]), 0.0)  # 1.65 > 1.28 with A > 0: clipped
        self.assertNotEqual(float(new.grad[0, 1]), 0.0)  # 1.105 inside the range
        self.assertAlmostEqual(metrics["clip_fraction"], 0.5)

    def test_tis_weights_by_the_sampler_mismatch_up_to_its_cap(self):
        new = torch.tensor([[-1.0, -1.0]], requires_grad=True)
        old = torch.tensor([[-1.0, -1.0]])
        sampler = torch.tensor([[-1.5, -4.0]])  # the trainer finds them e^0.5 and e^3 likelier
        loss, metrics = policy_loss(new, old, sampler, torch.tensor([1.0]), torch.ones(1, 2),
                                    torch.tensor([0]), LossConfig(tis_cap=2.0))
        loss.backward()
        # d(-ratio * A * w)/d new = -w at ratio 1; token-mean over 2 tokens.
        self.assertAlmostEqual(float(new.grad[0, 0]), -torch.exp(torch.tensor(0.5)).item() / 2, places=5)
        self.assertAlmostEqual(float(new.grad[0, 1]), -2.0 / 2, places=5)
        self.assertAlmostEqual(metrics["logprob_abs_diff_max"], 3.0, places=5)

    def test_names_an_unknown_aggregation(self):
        with self.assertRaisesRegex(ValueError, "use one of token-mean"):
            LossConfig(aggregation="sum")


if __name__ == "__main__":
    unittest.main()
