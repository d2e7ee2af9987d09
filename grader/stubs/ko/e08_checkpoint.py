"""문제 8: 학습 체크포인트를 저장하고 복원하기.

피클한 모델 객체가 아니라 state dict(텐서의 딕셔너리)를 저장하세요: 피클한 모델은 그
클래스의 코드와 모듈 경로에 묶이지만, state dict는 층이 같은 어떤 모델에도 불러올 수 있고,
torch.load(path, weights_only=True)가 임의의 피클 코드를 실행하지 않고 읽을 수 있습니다.

옵티마이저의 state_dict도 저장하세요: 모멘텀을 쓰는 SGD는 매개변수마다 모멘텀 버퍼를 두므로,
그것 없이 다시 시작한 학습은 멈춘 적 없었던 것처럼 이어지지 않습니다.
에포크도 함께 저장해서 학습이 어디서부터 이어질지 알게 하세요.
"""
import torch


def save_checkpoint(path, model, optimizer, epoch):
    """모델과 옵티마이저의 state dict, 그리고 에포크를 `path`의 파일 하나에 저장합니다."""
    raise NotImplementedError(
        'TODO: torch.save({"model": ..., "optimizer": ..., "epoch": int(epoch)}, path)로 '
        '파일 하나에 저장하세요'
    )


def load_checkpoint(path, model, optimizer=None, map_location="cpu"):
    """`path`에서 모델(주어졌다면 옵티마이저도)을 제자리에서 복원하고, 저장된 에포크를 int로 반환합니다."""
    raise NotImplementedError(
        "TODO: torch.load(path, map_location=map_location, weights_only=True), "
        "model(과 optimizer)에 load_state_dict, 에포크를 반환"
    )
