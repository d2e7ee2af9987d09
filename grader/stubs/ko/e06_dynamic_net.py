"""문제 6: 순전파할 때마다 깊이가 바뀌는 신경망.

forward는 평범한 파이썬이므로 반복문과 조건문을 쓸 수 있습니다: autograd는 실제로 실행된
것을 기록합니다. 여기서는 호출할 때마다 random.randint(0, 3)으로 깊이를 새로 뽑고, 은닉층은
매번 *같은* self.middle_linear입니다(가중치 공유). 모듈 하나를 다시 쓰면 그 매개변수를 다시
쓰는 것이고, 그 기울기는 모든 사용에 걸쳐 더해집니다.
"""
import random

import torch
from torch import nn


class DynamicNet(nn.Module):
    """입력층, 공유하는 가운데 층 하나를 0-3번 재사용, 출력층."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.input_linear = nn.Linear(D_in, H)
        self.middle_linear = nn.Linear(H, H)
        self.output_linear = nn.Linear(H, D_out)

    def forward(self, x):
        """relu(input_linear), 그다음 relu(middle_linear)를 random.randint(0, 3)번, 그다음 output_linear."""
        raise NotImplementedError(
            "TODO: h = relu(input_linear(x)); h = relu(middle_linear(h))를 "
            "random.randint(0, 3)번 반복; output_linear(h)를 반환"
        )
