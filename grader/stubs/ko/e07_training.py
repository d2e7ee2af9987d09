"""문제 7: 옵티마이저를 쓰는 학습 루프, 평가, 그리고 장치.

각 단계는 이 순서로 실행됩니다: 순전파(y_pred = model(x)), 손실, optimizer.zero_grad(),
loss.backward(), optimizer.step(). 각 손실은 loss.item()으로 파이썬 float로 기록하세요
(텐서를 그대로 두면 그 그래프까지 계속 살아 있습니다).

evaluate는 model.eval()로 바꾸고(dropout/batch-norm이 추론용으로 동작) torch.inference_mode()
안에서 실행하므로, 그래프를 만들지 않고 기울기도 바뀌지 않습니다.

장치에 무관한 코드를 쓰세요: 모델의 매개변수에서 장치를 알아내 x와 y를 그리로 옮기면, 같은
코드가 CPU에서도 GPU에서도 돌아갑니다.
"""
import torch


def train(model, x, y, *, steps=500, learning_rate=1e-4, momentum=0.0):
    """MSELoss(reduction="sum")에 SGD로 학습하고, 각 단계의 (갱신 전) 손실을 반환합니다."""
    raise NotImplementedError(
        "TODO: x, y를 모델의 장치로 옮기고, loss_fn과 torch.optim.SGD를 만들고, model.train(), "
        "그다음 매 단계: 순전파, 손실, losses.append(loss.item()), zero_grad, backward, step"
    )


def evaluate(model, x, y):
    """(x, y)에 대한 오차 제곱합 손실을 float로 반환하며, 모델은 바꾸지 않습니다."""
    raise NotImplementedError(
        "TODO: x, y를 모델의 장치로 옮기고, model.eval(), torch.inference_mode() 안에서 손실을 계산하세요"
    )


def pick_device():
    """CUDA를 쓸 수 있으면 torch.device("cuda"), 아니면 torch.device("cpu")를 반환합니다."""
    raise NotImplementedError("TODO: torch.cuda.is_available()을 확인하세요")
