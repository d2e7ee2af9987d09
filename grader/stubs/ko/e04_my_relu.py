"""문제 4: 사용자 정의 torch.autograd.Function으로 만드는 ReLU.

forward는 출력을 계산하고, 나중에 필요한 텐서를 ctx.save_for_backward(...)로 보관해 둘 수
있습니다. backward는 ctx.saved_tensors에서 그것을 다시 꺼내, 출력에 대한 손실의
기울기(grad_output)를 입력에 대한 기울기로 바꿉니다. ReLU에서는 그 기울기가 input > 0인
곳에서는 그대로 통과하고 input < 0인 곳에서는 0입니다.

grad_output을 제자리에서 바꾸지 마세요: autograd가 그래프의 다른 곳에서 그 텐서를 다시 쓸
수 있습니다. 먼저 복제하세요.
"""
import torch


class MyReLU(torch.autograd.Function):
    """역전파를 직접 작성한 ReLU."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        """출력에 대한 기울기가 주어지면, input에 대한 기울기를 반환합니다."""
        raise NotImplementedError(
            "TODO: ctx.saved_tensors에서 input을 꺼내고, grad_output을 복제해 input < 0인 곳을 0으로 만드세요"
        )


my_relu = MyReLU.apply
