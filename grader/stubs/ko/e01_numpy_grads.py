"""문제 1: 2층 ReLU 신경망의 순전파와 역전파를 NumPy로 직접 계산하기.

모양: x는 (N, D_in), y는 (N, D_out), w1은 (D_in, H), w2는 (H, D_out).
순전파:  h = x @ w1;  h_relu = relu(h);  y_pred = h_relu @ w2
손실:    loss = sum((y_pred - y) ** 2)   (평균이 아니라 합)

역전파, 연쇄 법칙을 한 단계씩 (각 기울기는 해당 텐서와 같은 모양):
    grad_y_pred = 2 * (y_pred - y)             # (N, D_out)
    grad_w2     = h_relu.T @ grad_y_pred        # (H, D_out)
    grad_h      = grad_y_pred @ w2.T            # (N, H), 그다음 h < 0인 곳을 0으로
    grad_w1     = x.T @ grad_h                  # (D_in, H)
경사 하강법은 각 가중치를 기울기의 반대 방향으로 조금씩 옮깁니다.
"""
import numpy as np


def numpy_two_layer_grads(x, y, w1, w2):
    """y_pred = relu(x @ w1) @ w2에 대해 (loss, grad_w1, grad_w2)를 반환합니다.

    NumPy만 쓰고, x, y, w1, w2는 바꾸지 마세요 (마스킹하기 전에 복사하세요).
    """
    raise NotImplementedError(
        "TODO: h, h_relu, y_pred와 손실을 계산한 뒤, grad_y_pred, grad_w2, "
        "grad_h (h < 0인 곳은 0), grad_w1을 구하세요"
    )


def numpy_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """경사 하강법 갱신을 `steps`번 실행하고 (w1, w2, losses)를 반환합니다.

    losses[t]는 t번째 갱신 전의 손실(float)이고, 갱신은 두 가중치 모두
    w -= learning_rate * grad_w 입니다.
    """
    raise NotImplementedError(
        "TODO: `steps`번 반복하며 numpy_two_layer_grads를 호출하고, 손실을 추가하고, "
        "w1과 w2를 갱신하세요"
    )
