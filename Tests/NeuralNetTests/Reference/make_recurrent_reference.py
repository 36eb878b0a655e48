"""Writes recurrent.json: LSTM and GRU cells run over a short time-major sequence with
episode resets, their outputs and final states, and the gradients of a weighted-sum loss
with respect to the inputs, the initial state and every parameter.

Parameters come from torch.nn.LSTMCell / torch.nn.GRUCell with torch's default
initialisation (uniform in +-1/sqrt(hidden)) under a fixed torch seed, in float32, and
are converted to this project's layout:
    input_weight  [input, gates * hidden]   = weight_ih.T
    hidden_weight [hidden, gates * hidden]  = weight_hh.T
    LSTM bias     [4 * hidden]              = bias_ih + bias_hh (summed in float32)
    GRU input_bias, hidden_bias [3 * hidden] = bias_ih, bias_hh (kept apart: the GRU's
                                               candidate multiplies h's part by r)
Gate order along the gates axis is torch's: LSTM i, f, g, o; GRU r, z, n.

Inputs, initial states and loss weights are drawn from a seeded NumPy generator and
rounded to float32. The sequence is computed in float64 from those float32 values with
the step formulas written out below (checked against torch's own cells in float64 before
anything is written), and results are rounded to float32 for storage.

Run: python3 make_recurrent_reference.py   (writes recurrent.json next to this script)
"""

import os

import numpy as np
import torch

from reference_json import f32, tensor, write_json

SEED = 20240612
TORCH_SEED = 0
INPUT_SIZE, HIDDEN_SIZE, BATCH, STEPS = 3, 4, 3, 6
RESETS = [(0, 1), (3, 0), (4, 2)]  # (t, b): the state entering step t is zeroed for row b

SEQUENCE_RULE = (
    "for t in 0..<T: for every row b with resets[t][b] == 1 set h[b] = 0 (and c[b] = 0)"
    " before the step (at t = 0 this replaces the initial state h0/c0 of that row); then"
    " (h, c) = cell(inputs[t], h, c) and outputs[t] = h; h_final (c_final) is the state"
    " after step T - 1 (so h_final equals outputs[T - 1])")

COMMON_KEYS = (
    "input_size, hidden_size, batch, steps: I, H, B, T. "
    "inputs [T, B, I]: time-major inputs. "
    "resets [T, B]: 0/1 floats; 1 zeroes the state entering step t for row b. "
    "h0 [B, H]: initial hidden state. "
    "input_weight [I, G*H], hidden_weight [H, G*H]: gates = x @ input_weight + h @"
    " hidden_weight (+ biases), G gate blocks of H columns each. "
    "outputs [T, B, H]: h after each step. "
    "h_final [B, H]: h after the last step. "
    "R [T, B, H], Rh [B, H]: loss weights. "
    "loss: the scalar L (float32). "
    "grad_<name>: dL/d<name>, same shape and layout as <name>; rows reset at t = 0 get a"
    " zero initial-state gradient.")


def as_float32(array):
    return np.asarray(array, dtype=np.float64).astype(np.float32)


def leaf(array):
    """A float64 torch leaf holding float32 values, with gradients enabled."""
    return torch.tensor(np.asarray(array, dtype=np.float32).astype(np.float64),
                        requires_grad=True)


def draw_sequence(generator, with_cell_state):
    inputs = as_float32(generator.normal(0.0, 1.0, size=(STEPS, BATCH, INPUT_SIZE)))
    resets = np.zeros((STEPS, BATCH), dtype=np.float32)
    for t, b in RESETS:
        resets[t, b] = 1.0
    h0 = as_float32(generator.normal(0.0, 0.5, size=(BATCH, HIDDEN_SIZE)))
    c0 = as_float32(generator.normal(0.0, 0.5, size=(BATCH, HIDDEN_SIZE))) if with_cell_state else None
    r = as_float32(generator.normal(0.0, 1.0, size=(STEPS, BATCH, HIDDEN_SIZE)))
    rh = as_float32(generator.normal(0.0, 1.0, size=(BATCH, HIDDEN_SIZE)))
    rc = as_float32(generator.normal(0.0, 1.0, size=(BATCH, HIDDEN_SIZE))) if with_cell_state else None
    return inputs, resets, h0, c0, r, rh, rc


# --- Step formulas in this project's layout -------------------------------------------

def lstm_step(x, h, c, input_weight, hidden_weight, bias):
    gates = x @ input_weight + h @ hidden_weight + bias
    i, f, g, o = gates.split(HIDDEN_SIZE, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    return o * torch.tanh(c), c


def gru_step(x, h, input_weight, hidden_weight, input_bias, hidden_bias):
    xi = x @ input_weight + input_bias
    hh = h @ hidden_weight + hidden_bias
    x_r, x_z, x_n = xi.split(HIDDEN_SIZE, dim=-1)
    h_r, h_z, h_n = hh.split(HIDDEN_SIZE, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def run_sequence(step, inputs, resets, states):
    """Runs `step(x, *states) -> states` over time with resets; returns outputs and states."""
    outputs = []
    for t in range(inputs.shape[0]):
        keep = (1 - resets[t]).unsqueeze(-1)
        states = tuple(state * keep for state in states)
        states = step(inputs[t], *states)
        if not isinstance(states, tuple):
            states = (states,)
        outputs.append(states[0])
    return torch.stack(outputs), states


# --- LSTM ------------------------------------------------------------------------------

def lstm(generator):
    torch.manual_seed(TORCH_SEED)
    cell = torch.nn.LSTMCell(INPUT_SIZE, HIDDEN_SIZE)  # float32, torch's default init
    weight_ih = cell.weight_ih.detach().numpy().copy()   # [4H, I]
    weight_hh = cell.weight_hh.detach().numpy().copy()   # [4H, H]
    bias_ih = cell.bias_ih.detach().numpy().copy()
    bias_hh = cell.bias_hh.detach().numpy().copy()
    input_weight = np.ascontiguousarray(weight_ih.T)
    hidden_weight = np.ascontiguousarray(weight_hh.T)
    bias = (bias_ih + bias_hh).astype(np.float32)

    inputs, resets, h0, c0, r, rh, rc = draw_sequence(generator, with_cell_state=True)
    xs, h0s, c0s = leaf(inputs), leaf(h0), leaf(c0)
    wi, wh, bs = leaf(input_weight), leaf(hidden_weight), leaf(bias)
    resets64 = torch.tensor(resets, dtype=torch.float64)
    outputs, (h_final, c_final) = run_sequence(
        lambda x, h, c: lstm_step(x, h, c, wi, wh, bs), xs, resets64, (h0s, c0s))
    loss = ((outputs * torch.tensor(r, dtype=torch.float64)).sum()
            + (h_final * torch.tensor(rh, dtype=torch.float64)).sum()
            + (c_final * torch.tensor(rc, dtype=torch.float64)).sum())
    loss.backward()

    # Check 1: the formula against torch's LSTMCell in float64 with the same parameters
    # (weight_ih = input_weight.T, bias_ih = bias, bias_hh = 0), values and gradients.
    ref = torch.nn.LSTMCell(INPUT_SIZE, HIDDEN_SIZE).double()
    with torch.no_grad():
        ref.weight_ih.copy_(torch.tensor(input_weight.T.astype(np.float64)))
        ref.weight_hh.copy_(torch.tensor(hidden_weight.T.astype(np.float64)))
        ref.bias_ih.copy_(torch.tensor(bias.astype(np.float64)))
        ref.bias_hh.zero_()
    xr, h0r, c0r = leaf(inputs), leaf(h0), leaf(c0)
    ref_outputs, (ref_h, ref_c) = run_sequence(lambda x, h, c: ref(x, (h, c)), xr, resets64,
                                               (h0r, c0r))
    ref_loss = ((ref_outputs * torch.tensor(r, dtype=torch.float64)).sum()
                + (ref_h * torch.tensor(rh, dtype=torch.float64)).sum()
                + (ref_c * torch.tensor(rc, dtype=torch.float64)).sum())
    ref_loss.backward()
    pairs = [
        ("outputs", outputs.detach(), ref_outputs.detach()),
        ("c_final", c_final.detach(), ref_c.detach()),
        ("grad_inputs", xs.grad, xr.grad), ("grad_h0", h0s.grad, h0r.grad),
        ("grad_c0", c0s.grad, c0r.grad),
        ("grad_input_weight", wi.grad, ref.weight_ih.grad.T),
        ("grad_hidden_weight", wh.grad, ref.weight_hh.grad.T),
        ("grad_bias", bs.grad, ref.bias_ih.grad), ("grad_bias (bias_hh)", bs.grad, ref.bias_hh.grad),
    ]
    worst = check_pairs("lstm", pairs, 1e-12)

    # Check 2: the float32 torch cell with its separate biases agrees to float32 accuracy
    # (the layout conversion loses nothing but the rounding of the bias sum).
    with torch.no_grad():
        out32, _ = run_sequence(lambda x, h, c: cell(x, (h, c)), torch.tensor(inputs),
                                torch.tensor(resets), (torch.tensor(h0), torch.tensor(c0)))
    diff32 = float((out32.double() - outputs.detach()).abs().max())
    assert diff32 < 1e-5, f"lstm: float32 torch cell differs by {diff32}"
    print(f"lstm  formula vs torch LSTMCell (float64): {worst:.3g};"
          f" vs float32 cell with separate biases: {diff32:.3g}; loss {loss.item():.9g}")

    return {
        "description": (
            "LSTM cell over a sequence with resets. Step: gates = x @ input_weight +"
            " h @ hidden_weight + bias, split along the last axis into four blocks of H in"
            " the order i, f, g, o; i = sigmoid, f = sigmoid, g = tanh, o = sigmoid;"
            " c' = f * c + i * g; h' = o * tanh(c'). " + SEQUENCE_RULE + ". Loss L ="
            " sum(outputs * R) + sum(h_final * Rh) + sum(c_final * Rc). Keys: "
            + COMMON_KEYS + " Also: c0 [B, H]: initial cell state; bias [4H] = torch's"
            " bias_ih + bias_hh, rounded to float32; torch_bias_ih, torch_bias_hh [4H]:"
            " torch's two biases, for information only (their float32 sum is bias);"
            " c_final [B, H]; Rc [B, H]; grad_inputs, grad_h0, grad_c0, grad_input_weight,"
            " grad_hidden_weight, grad_bias. Parameters: torch.nn.LSTMCell default init"
            f" after torch.manual_seed({TORCH_SEED}); input_weight = weight_ih.T,"
            " hidden_weight = weight_hh.T."),
        "gate_order": ["i", "f", "g", "o"],
        "input_size": INPUT_SIZE,
        "hidden_size": HIDDEN_SIZE,
        "batch": BATCH,
        "steps": STEPS,
        "inputs": tensor(inputs),
        "resets": tensor(resets),
        "h0": tensor(h0),
        "c0": tensor(c0),
        "input_weight": tensor(input_weight),
        "hidden_weight": tensor(hidden_weight),
        "bias": tensor(bias),
        "torch_bias_ih": tensor(bias_ih),
        "torch_bias_hh": tensor(bias_hh),
        "outputs": tensor(outputs.detach().numpy()),
        "h_final": tensor(h_final.detach().numpy()),
        "c_final": tensor(c_final.detach().numpy()),
        "R": tensor(r),
        "Rh": tensor(rh),
        "Rc": tensor(rc),
        "loss": f32(loss.item()),
        "grad_inputs": tensor(xs.grad.numpy()),
        "grad_h0": tensor(h0s.grad.numpy()),
        "grad_c0": tensor(c0s.grad.numpy()),
        "grad_input_weight": tensor(wi.grad.numpy()),
        "grad_hidden_weight": tensor(wh.grad.numpy()),
        "grad_bias": tensor(bs.grad.numpy()),
    }


# --- GRU -------------------------------------------------------------------------------

def gru(generator):
    torch.manual_seed(TORCH_SEED + 1)
    cell = torch.nn.GRUCell(INPUT_SIZE, HIDDEN_SIZE)
    input_weight = np.ascontiguousarray(cell.weight_ih.detach().numpy().T)
    hidden_weight = np.ascontiguousarray(cell.weight_hh.detach().numpy().T)
    input_bias = cell.bias_ih.detach().numpy().copy()
    hidden_bias = cell.bias_hh.detach().numpy().copy()

    inputs, resets, h0, _, r, rh, _ = draw_sequence(generator, with_cell_state=False)
    xs, h0s = leaf(inputs), leaf(h0)
    wi, wh, bi, bh = leaf(input_weight), leaf(hidden_weight), leaf(input_bias), leaf(hidden_bias)
    resets64 = torch.tensor(resets, dtype=torch.float64)
    outputs, (h_final,) = run_sequence(
        lambda x, h: gru_step(x, h, wi, wh, bi, bh), xs, resets64, (h0s,))
    loss = ((outputs * torch.tensor(r, dtype=torch.float64)).sum()
            + (h_final * torch.tensor(rh, dtype=torch.float64)).sum())
    loss.backward()

    # Check: the formula against torch's GRUCell in float64 with the same parameters.
    ref = cell.double()  # the same parameters (float32 values), now in float64
    xr, h0r = leaf(inputs), leaf(h0)
    ref_outputs, (ref_h,) = run_sequence(lambda x, h: ref(x, h), xr, resets64, (h0r,))
    ref_loss = ((ref_outputs * torch.tensor(r, dtype=torch.float64)).sum()
                + (ref_h * torch.tensor(rh, dtype=torch.float64)).sum())
    ref_loss.backward()
    pairs = [
        ("outputs", outputs.detach(), ref_outputs.detach()),
        ("h_final", h_final.detach(), ref_h.detach()),
        ("grad_inputs", xs.grad, xr.grad), ("grad_h0", h0s.grad, h0r.grad),
        ("grad_input_weight", wi.grad, ref.weight_ih.grad.T),
        ("grad_hidden_weight", wh.grad, ref.weight_hh.grad.T),
        ("grad_input_bias", bi.grad, ref.bias_ih.grad),
        ("grad_hidden_bias", bh.grad, ref.bias_hh.grad),
    ]
    worst = check_pairs("gru", pairs, 1e-12)
    print(f"gru   formula vs torch GRUCell (float64): {worst:.3g}; loss {loss.item():.9g}")

    return {
        "description": (
            "GRU cell over a sequence with resets. Step: a = x @ input_weight + input_bias,"
            " b = h @ hidden_weight + hidden_bias, each split along the last axis into three"
            " blocks of H in the order r, z, n; r = sigmoid(a_r + b_r); z = sigmoid(a_z +"
            " b_z); n = tanh(a_n + r * b_n); h' = (1 - z) * n + z * h. " + SEQUENCE_RULE
            + ". Loss L = sum(outputs * R) + sum(h_final * Rh). Keys: " + COMMON_KEYS
            + " Also: input_bias [3H] = torch's bias_ih; hidden_bias [3H] = torch's bias_hh;"
            " grad_inputs, grad_h0, grad_input_weight, grad_hidden_weight, grad_input_bias,"
            " grad_hidden_bias. Parameters: torch.nn.GRUCell default init after"
            f" torch.manual_seed({TORCH_SEED + 1}); input_weight = weight_ih.T,"
            " hidden_weight = weight_hh.T."),
        "gate_order": ["r", "z", "n"],
        "input_size": INPUT_SIZE,
        "hidden_size": HIDDEN_SIZE,
        "batch": BATCH,
        "steps": STEPS,
        "inputs": tensor(inputs),
        "resets": tensor(resets),
        "h0": tensor(h0),
        "input_weight": tensor(input_weight),
        "hidden_weight": tensor(hidden_weight),
        "input_bias": tensor(input_bias),
        "hidden_bias": tensor(hidden_bias),
        "outputs": tensor(outputs.detach().numpy()),
        "h_final": tensor(h_final.detach().numpy()),
        "R": tensor(r),
        "Rh": tensor(rh),
        "loss": f32(loss.item()),
        "grad_inputs": tensor(xs.grad.numpy()),
        "grad_h0": tensor(h0s.grad.numpy()),
        "grad_input_weight": tensor(wi.grad.numpy()),
        "grad_hidden_weight": tensor(wh.grad.numpy()),
        "grad_input_bias": tensor(bi.grad.numpy()),
        "grad_hidden_bias": tensor(bh.grad.numpy()),
    }


def check_pairs(name, pairs, tolerance):
    worst = 0.0
    for label, mine, theirs in pairs:
        difference = float((mine - theirs).abs().max())
        if not difference <= tolerance:
            raise AssertionError(f"{name} {label}: formula and torch differ by {difference}")
        worst = max(worst, difference)
    return worst


def main():
    generator = np.random.default_rng(SEED)
    document = {
        "description": (
            "PyTorch reference values for recurrent cells run over a time-major sequence"
            " with per-row episode resets, with gradients of L = sum(outputs * R) +"
            " sum(h_final * Rh) (+ sum(c_final * Rc) for the LSTM). Keys: lstm, gru (each"
            " with its own description of its keys); torch_version, numpy_version; seed"
            " (numpy.random.default_rng seed for inputs, states and loss weights); precision;"
            " tensor_format. Written by make_recurrent_reference.py."),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": SEED,
        "precision": "inputs and parameters are float32; torch computed in float64;"
                     " results rounded to float32",
        "tensor_format": "{\"shape\": [...], \"values\": [row-major float32 values]}",
        "lstm": lstm(generator),
        "gru": gru(generator),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent.json")
    size = write_json(path, document)
    print(f"wrote {path} ({size} bytes)")


if __name__ == "__main__":
    main()
