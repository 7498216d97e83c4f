# SGD optimizer (used for the DeepLabV2/ResNet baselines).
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005)
optimizer_config = dict()
