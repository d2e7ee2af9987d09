"""문제 5: nn.Module로 만드는 2층 신경망.

__init__에서 속성으로 지정한 층(self.linear1 = nn.Linear(...))은 하위 모듈로 등록되므로,
그 가중치가 model.parameters()(옵티마이저용)와 model.state_dict()(저장용)에 나타나고
model.to(device)와 함께 옮겨집니다.
지역 변수나 평범한 리스트에만 담아 둔 층은 이 모두에게 보이지 않습니다.
"""
import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """y_pred = linear2(relu(linear1(x)))."""

    def __init__(self, D_in, H, D_out):
        super().__init__()
        # TODO: self.linear1 = nn.Linear(D_in, H)와 self.linear2 = nn.Linear(H, D_out)을 만드세요
        raise NotImplementedError("TODO: 속성 linear1과 linear2를 만드세요")

    def forward(self, x):
        """linear2(relu(linear1(x)))를 반환합니다."""
        raise NotImplementedError("TODO: linear1, relu, 그다음 linear2를 적용하세요")
