def generate_messy(out_dir, seed=7):
    return {}
