"""문제 0: 텐서 기초 (난수 시드, 뷰와 복사본, 모양, 인덱싱, NumPy).

난수: torch.manual_seed(seed)는 그 뒤에 뽑는 값을 재현 가능하게 만들지만, 다른 모든 코드가
함께 쓰는 하나뿐인 전역 생성기의 시드를 다시 정합니다. torch.Generator는 자기만의 상태를
가집니다. 그것에 시드를 주고 torch.randn에 generator=...로 넘기면, 프로그램의 나머지
난수는 그대로 남습니다.

뷰와 복사본: 뷰는 원래 텐서와 메모리를 공유하고(한쪽에 쓰면 다른 쪽도 바뀝니다), 복사본은
그렇지 않습니다. x.view(shape)는 언제나 뷰만 만들기 때문에, 메모리가 순서대로 놓여 있지
않으면("연속적이지 않은" 텐서: permute, transpose, 건너뛰는 슬라이스 뒤) 실패합니다.
x.reshape(shape)는 가능하면 뷰를, 꼭 필요할 때만 복사본을 만듭니다. x.permute(dims)는 축의
순서를 바꾸고(데이터도 함께 움직입니다), view와 reshape는 원소의 순서를 그대로 둔 채 묶음만
다시 나누므로 채널을 옮길 수 없습니다.

인덱싱: 행마다 값이 하나씩 있는 불리언 텐서로 x[mask]처럼 그 행들을 골라냅니다.
쌓기: torch.stack(tensors, dim=d)는 d 위치에 새 축을 추가합니다.

NumPy: t.numpy()와 torch.from_numpy(a)는 원래 객체와 메모리를 공유합니다.
torch.tensor(a), np.array(t), 그리고 dtype을 바꾸는 모든 변환은 복사본을 만듭니다.
"""
import torch


def seeded_normal(seed, shape):
    """torch.manual_seed(seed); torch.randn(shape)과 같은 값을, 전역 난수 상태를 건드리지
    않고 반환합니다."""
    raise NotImplementedError(
        "TODO: torch.Generator를 만들어 manual_seed(seed)로 시드를 주고, "
        "torch.randn(shape, generator=...)로 뽑으세요"
    )


def flatten_images(x):
    """(N, C, H, W) -> (N, C*H*W). x가 연속적이면 x의 뷰(복사 없음)입니다."""
    raise NotImplementedError(
        "TODO: 첫 번째 축은 두고 나머지를 합치되, x가 연속적이지 않을 때도 "
        "동작하는 방법을 쓰세요"
    )


def channels_last(x):
    """(N, C, H, W) -> (N, H, W, C): 픽셀 [n, h, w]에 x[n, :, h, w]의 C개 값이 담깁니다."""
    raise NotImplementedError("TODO: 채널 축을 맨 끝으로 옮기세요")


def stack_columns(columns):
    """길이 N인 1차원 텐서 K개의 리스트 -> (N, K) 텐서, k번째 열 = columns[k]."""
    raise NotImplementedError("TODO: 텐서들을 새로운 축 1을 따라 쌓으세요")


def positive_rows(x):
    """2차원 텐서 x에서 합이 0보다 큰 행들 (불리언 인덱싱)."""
    raise NotImplementedError("TODO: 행마다 값이 하나인 마스크를 만들고, 그것으로 x를 인덱싱하세요")


def numpy_view(t):
    """CPU 텐서 t와 메모리를 공유하는 NumPy 배열."""
    raise NotImplementedError("TODO: t를 복사하지 않고 NumPy 배열로 바꾸세요")


def tensor_view(a):
    """NumPy 배열 a와 메모리를 공유하는 텐서 (dtype 그대로, 복사 없음)."""
    raise NotImplementedError("TODO: a를 복사하지 않고 텐서로 바꾸세요")
