import torch


def accuracy(pred, target, topk=1, thresh=None):
    """Top-k pixel accuracy in percent over *all* label pixels (ignore pixels included in
    the denominator, as mmseg 0.x did).

    Args:
        pred (Tensor): N×C×H×W logits.
        target (Tensor): N×H×W labels.
    Returns:
        Tensor of shape (1,) (or a tuple of them for several ``topk``).
    """
    assert isinstance(topk, (int, tuple))
    return_single = isinstance(topk, int)
    topk = (topk,) if return_single else topk
    maxk = max(topk)
    if pred.size(0) == 0:
        accs = [pred.new_tensor(0.) for _ in topk]
        return accs[0] if return_single else accs
    pred_value, pred_label = pred.topk(maxk, dim=1)
    pred_label = pred_label.transpose(0, 1)  # maxk×N×H×W
    correct = pred_label.eq(target.unsqueeze(0).expand_as(pred_label))
    if thresh is not None:
        correct = correct & (pred_value.transpose(0, 1) > thresh)
    res = []
    for k in topk:
        correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
        res.append(correct_k.mul_(100.0 / target.numel()))
    return res[0] if return_single else res


class Accuracy(torch.nn.Module):
    def __init__(self, topk=(1,), thresh=None):
        super().__init__()
        self.topk = topk
        self.thresh = thresh

    def forward(self, pred, target):
        return accuracy(pred, target, self.topk, self.thresh)
