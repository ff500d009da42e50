"""Trains a tiny network (2 inputs, 2 hidden tanh units, 1 sigmoid output)
on XOR with full-batch gradient descent and checks the final loss.

The planted bug: the weights are initialised from an unseeded generator
(np.random.default_rng() draws its seed from OS randomness), and with two
hidden units some initialisations end in a local minimum. The same code on
the same data passes or fails by the draw. The program never heard of
retrace.
"""
import sys

import numpy as np

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([[0], [1], [1], [0]], dtype=float)

rng = np.random.default_rng()  # the bug: no seed
W1 = rng.normal(0, 1.0, (2, 2))
b1 = np.zeros(2)
W2 = rng.normal(0, 1.0, (2, 1))
b2 = np.zeros(1)

lr = 0.5
for step in range(3000):
    h = np.tanh(X @ W1 + b1)
    p = 1 / (1 + np.exp(-(h @ W2 + b2)))
    loss = float(np.mean(-(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))))
    dz2 = (p - y) / len(X)
    dW2, db2 = h.T @ dz2, dz2.sum(0)
    dz1 = (dz2 @ W2.T) * (1 - h ** 2)
    dW1, db1 = X.T @ dz1, dz1.sum(0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2

print("final loss %.4f" % loss)
sys.exit(0 if loss < 0.1 else 1)
