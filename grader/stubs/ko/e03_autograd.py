"""문제 3: autograd가 기울기를 계산하게 하기.

requires_grad=True인 텐서는 자신에게 적용된 연산을 기록합니다. loss.backward()를 호출하면
그런 잎(leaf) 텐서마다 .grad에 d(loss)/d(텐서)가 채워집니다.
기울기는 누적됩니다: backward는 .grad에 더하므로 매 단계 0으로 만드세요
(w.grad.zero_()). 그러지 않으면 갱신할 때마다 이전의 모든 기울기까지 쓰게 됩니다.
가중치 갱신 자체는 기록되면 안 되므로 `with torch.no_grad():` 안에서 하세요.

*_grads 함수는 순수해야 합니다: 호출한 쪽의 텐서는 기울기를 요구하지 않으며 그 상태를
유지해야 하므로, 분리한 복제본(w1.detach().clone().requires_grad_())으로 작업하세요.
"""
import torch


def autograd_two_layer_grads(x, y, w1, w2):
    """loss.backward()로 계산한 (loss, grad_w1, grad_w2)를 반환합니다.

    호출한 쪽의 텐서는 그대로 두세요 (그 텐서에 requires_grad_ 금지).
    """
    raise NotImplementedError(
        "TODO: w1, w2를 requires_grad로 복제하고, 순전파, loss.backward(), loss.item()과 .grad들을 반환하세요"
    )


def autograd_train(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """autograd로 경사 하강법 갱신을 `steps`번 실행하고 (w1, w2, losses)를 반환합니다.

    losses[t]는 t번째 갱신 전의 손실(float)입니다.
    """
    raise NotImplementedError(
        "TODO: w1, w2가 기울기를 요구하게 한 뒤, 매 단계: 순전파, 손실, backward, "
        "torch.no_grad() 안에서 갱신, 기울기를 0으로"
    )
