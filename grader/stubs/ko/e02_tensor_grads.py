"""문제 2: 같은 기울기를 torch 텐서로 직접 계산하기 (autograd 없이).

텐서는 NumPy 배열처럼 동작하지만(x.mm(w) 또는 x @ w, .clamp(min=0), .t(), .clone()),
GPU에 둘 수도 있습니다. 모양과 모델은 문제 1과 같습니다:
x (N, D_in), w1 (D_in, H), w2 (H, D_out), y_pred = relu(x @ w1) @ w2,
손실 = 오차 제곱의 합, 그리고 역전파:
    grad_y_pred = 2 * (y_pred - y)
    grad_w2     = h_relu.T @ grad_y_pred
    grad_h      = grad_y_pred @ w2.T, h < 0인 곳은 0으로
    grad_w1     = x.T @ grad_h

poly_grads는 1차원 텐서 x, y에 3차식 y ≈ a + b*x + c*x**2 + d*x**3을 맞추며,
coeffs = tensor([a, b, c, d])입니다. g = 2 * (y_pred - y)라 하면 손실의 도함수는
    dL/da = sum(g),  dL/db = sum(g * x),  dL/dc = sum(g * x**2),  dL/dd = sum(g * x**3).
"""
import torch


def tensor_two_layer_grads(x, y, w1, w2):
    """y_pred = relu(x @ w1) @ w2에 대해 (loss, grad_w1, grad_w2)를 직접 계산해 반환합니다.

    .backward()를 호출하지 말고, 입력 텐서를 바꾸지 마세요.
    """
    raise NotImplementedError(
        "TODO: mm/clamp로 순전파, .item()으로 손실, 그다음 역전파 네 단계"
    )


def poly_grads(x, y, coeffs):
    """3차식 맞추기의 (loss, grads)를 반환합니다. grads는 coeffs처럼 모양이 (4,)입니다."""
    raise NotImplementedError(
        "TODO: a, b, c, d로 y_pred를 계산하고, 손실과 네 개의 합을 한 텐서에 담으세요"
    )
