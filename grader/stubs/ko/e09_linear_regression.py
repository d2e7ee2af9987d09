"""문제 9: 직선 위에서 보는 PyTorch 작업 흐름 전체, 그리고 직접 하는 경사 하강법.

1. 데이터: 알려진 직선 위의 점들. X = arange(start, end, step)를 모양 (N, 1)의 열로
   (unsqueeze(dim=1)) 만들고 y = weight * X + bias. 모델은 weight와 bias를 다시
   찾아내야 합니다.
2. 나누기: 처음 int(train_fraction * len(X))개 행은 학습용, 나머지는 테스트용. 순서를
   유지하세요: 테스트 행은 직선의 끝부분, 모델이 보지 못한 부분입니다.
3. 모델: 학습하는 숫자가 nn.Parameter 속성인 nn.Module (평범한 텐서는 등록되지 않아서
   model.parameters()와 옵티마이저가 보지 못합니다): weights와 bias, 각각
   torch.randn(1)에서 시작하고, forward는 weights * x + bias입니다.
4. 학습, 에포크마다 한 번: model.train(); 학습 데이터로 순전파; 손실
   (nn.L1Loss(): 평균 절대 오차); 갱신 전에 loss.item() 기록; optimizer.zero_grad();
   loss.backward(); optimizer.step(). 그다음 테스트: model.eval()로 바꾸고,
   torch.inference_mode() 안에서(그래프도 기울기도 없이) 테스트 데이터의 손실을 구합니다.

직접 하는 경사 하강법 (NumPy만), 평균 제곱 오차를 쓰는 f = w * x에 대해
    J(w) = mean((w * x - y) ** 2),   dJ/dw = mean(2 * x * (w * x - y)),
w = 0.0에서 시작해 w -= learning_rate * dJ/dw를 반복합니다.
"""
import numpy as np
import torch
from torch import nn


def make_line_data(weight=0.7, bias=0.3, start=0.0, end=1.0, step=0.02):
    """(X, y)를 반환합니다: X = arange(start, end, step)를 float32 열 (N, 1)로,
    y = weight * X + bias."""
    raise NotImplementedError(
        "TODO: X = torch.arange(start, end, step)를 unsqueeze(dim=1)로 열로 만들고; "
        "weight, X, bias로 y를 구하세요"
    )


def split_data(X, y, train_fraction=0.8):
    """(X_train, y_train, X_test, y_test)를 반환합니다: 처음 int(train_fraction * len(X))개
    행은 학습용, 나머지는 테스트용, 순서 그대로."""
    raise NotImplementedError("TODO: 나누는 위치를 계산하고, 그 위치에서 X와 y를 자르세요")


class LinearRegressionModel(nn.Module):
    """weights * x + bias. 매개변수는 `weights`와 `bias` (각각 torch.randn(1))."""

    def __init__(self):
        super().__init__()
        raise NotImplementedError(
            "TODO: self.weights와 self.bias, 각각 torch.randn(1)로 만든 nn.Parameter"
        )

    def forward(self, x):
        raise NotImplementedError("TODO: weights * x + bias를 반환하세요")


def fit(model, X_train, y_train, X_test, y_test, *, epochs=100, learning_rate=0.01):
    """nn.L1Loss()와 torch.optim.SGD(lr=learning_rate)로 에포크마다 전체 배치 한 단계씩
    학습하고, 매번 그 뒤에 테스트 손실을 잽니다. (train_losses, test_losses)를 파이썬
    float로 반환하며, train_losses[t]는 t번째 갱신 전의 값입니다."""
    raise NotImplementedError(
        "TODO: 손실과 옵티마이저는 한 번만 만들고; 에포크마다: model.train(), 순전파, "
        "손실, loss.item() 기록, zero_grad, backward, step; 그다음 model.eval()과 "
        "torch.inference_mode() 안에서 테스트 손실"
    )


def manual_gradient_descent(x, y, *, learning_rate=0.01, steps=20):
    """NumPy 배열 x, y에 f = w * x를 w = 0.0부터 맞춥니다. (w, losses)를 반환합니다: 최종
    w(float)와, 각 단계의 갱신 전 평균 제곱 오차."""
    raise NotImplementedError(
        "TODO: 매 단계: y_pred = w * x, 손실 기록, dJ/dw를 직접 계산, "
        "w -= learning_rate * dJ/dw"
    )
