//! Record generators. Field names and value formats follow the official v1 doc
//! examples (`contifico_samples/v1_official_docs/*.json`) and, for v2, the OpenAPI
//! schema examples. Values are synthetic.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Map, Value};

use super::data::{doc_emission_lag_days, Overlay, Resource, Store, EC_OFFSET_H, NS_COBRO, NS_VARIANTE_VALOR};
use crate::util::{cedula_ec, ddmmyyyy, hash, local_naive, ruc_sociedad, Rng};

const NS_PERSONA_CATEGORIA: u16 = 103;

const NOMBRES: &[&str] = &[
    "MARIA", "JOSE", "LUIS", "ANA", "CARLOS", "GABRIELA", "ANDRES", "DANIELA", "FERNANDO", "VERONICA", "DIEGO",
    "PAOLA", "JORGE", "LUCIA", "MIGUEL", "CARMEN",
];
const APELLIDOS: &[&str] = &[
    "ESPINOSA", "GOMEZ", "VERA", "ZAMBRANO", "MORALES", "CEDEÑO", "MENDOZA", "PAREDES", "TORRES", "ANDRADE", "SALAZAR",
    "VILLACIS", "CHAVEZ", "BRAVO", "MOREIRA", "ORTIZ",
];
const EMPRESAS: &[&str] =
    &["DISTRIBUIDORA", "COMERCIAL", "IMPORTADORA", "FERRETERIA", "TECNOLOGIA", "SERVICIOS", "CONSTRUCTORA", "AGRICOLA"];
const LUGARES: &[&str] = &[
    "ANDINA",
    "DEL PACIFICO",
    "COTOPAXI",
    "GALAPAGOS",
    "CHIMBORAZO",
    "AMAZONAS",
    "GUAYAS",
    "AZUAY",
    "MANABI",
    "EL ORO",
];
const SUFIJOS: &[&str] = &["S.A.", "CIA. LTDA.", "S.A.S."];
const CIUDADES: &[&str] = &["QUITO", "GUAYAQUIL", "CUENCA", "MANTA", "AMBATO", "LOJA", "MACHALA", "IBARRA"];
const CATEGORIAS: &[&str] = &[
    "GENERAL",
    "ELECTRONICA",
    "FERRETERIA",
    "PAPELERIA",
    "ALIMENTOS",
    "BEBIDAS",
    "LIMPIEZA",
    "REPUESTOS",
    "TEXTILES",
    "SERVICIOS",
];
const PRODUCTOS: &[&str] = &[
    "LAPTOP",
    "MONITOR",
    "TECLADO",
    "MOUSE",
    "IMPRESORA",
    "CABLE HDMI",
    "ROUTER",
    "SWITCH",
    "DISCO SSD",
    "MEMORIA RAM",
    "SILLA",
    "ESCRITORIO",
    "CAFE",
    "AGUA",
    "ACEITE",
    "ARROZ",
];
const MARCAS: &[&str] = &["Andina", "Pacifica", "Cotopaxi", "Galapagos", "Chimborazo", "Amazonas", "Guayas", "Azuay"];
const VARIANTES: &[(&str, &[&str])] = &[
    ("COLOR", &["NEGRO", "BLANCO", "ROJO", "AZUL"]),
    ("TAMAÑO", &["13 pulg.", "15.6 pulg.", "17 pulg."]),
    ("TALLA", &["S", "M", "L", "XL"]),
    ("CAPACIDAD", &["256 GB", "512 GB", "1 TB"]),
];
const BANCOS: &[&str] = &["PICHINCHA", "PACIFICO", "GUAYAQUIL", "PRODUBANCO", "INTERNACIONAL", "BOLIVARIANO"];

/// Record generator bound to one overlay snapshot.
pub(crate) struct Gen<'a> {
    pub st: &'a Store,
    pub ov: &'a Overlay,
    pub v2: bool,
}

/// Cheap facts about a document, shared by the generator and the list filters.
pub(crate) struct DocCore {
    pub is_cli: bool,
    pub persona_idx: Option<u64>,
    pub bodega_idx: Option<u64>,
}

pub(crate) fn doc_core(seed: u64, base: u64, idx: u64) -> DocCore {
    let h = hash(&[seed, 0xD0C0, idx]);
    DocCore {
        is_cli: h % 10 < 6,
        persona_idx: (base > 0).then(|| (h >> 8) % base),
        bodega_idx: (base > 0).then(|| (h >> 36) % base),
    }
}

/// Money as the API usually sends it (a decimal string) or, for some records, a number.
fn amt(v: f64, numeric: bool) -> Value {
    if numeric {
        json!((v * 100.0).round() / 100.0)
    } else {
        json!(format!("{v:.2}"))
    }
}

/// Quantities as `"20.0"` strings (or numbers for some records).
fn qty(v: f64, numeric: bool) -> Value {
    if numeric {
        json!(v)
    } else {
        json!(format!("{v:.1}"))
    }
}

impl<'a> Gen<'a> {
    fn rng(&self, r: Resource, idx: u64) -> Rng {
        Rng::from_parts(&[self.st.seed, r.ns() as u64, idx, 0xBA5E])
    }

    fn id(&self, r: Resource, idx: u64) -> String {
        self.st.id(r, idx)
    }

    fn ref_idx(&self, rng: &mut Rng) -> Option<u64> {
        (self.st.base > 0).then(|| rng.below(self.st.base))
    }

    fn ref_id(&self, r: Resource, rng: &mut Rng) -> Value {
        match self.ref_idx(rng) {
            Some(i) => json!(self.id(r, i)),
            None => Value::Null,
        }
    }

    fn date_of(&self, ts: i64) -> NaiveDate {
        local_naive(ts, EC_OFFSET_H).date()
    }

    fn date_str(&self, ts: i64) -> String {
        ddmmyyyy(self.date_of(ts))
    }

    /// A fast attribute used by list filters (must agree with the JSON).
    pub fn fast(&self, r: Resource, idx: u64, key: &str) -> Option<String> {
        match (r, key) {
            (Resource::Documento, "tipo_registro") => {
                Some(if doc_core(self.st.seed, self.st.base, idx).is_cli { "CLI" } else { "PRO" }.to_string())
            }
            (Resource::Documento, "persona_id") => {
                doc_core(self.st.seed, self.st.base, idx).persona_idx.map(|p| self.id(Resource::Persona, p))
            }
            (Resource::Documento, "bodega_id") => {
                doc_core(self.st.seed, self.st.base, idx).bodega_idx.map(|b| self.id(Resource::Bodega, b))
            }
            (Resource::Persona, "estado") => {
                Some(if hash(&[self.st.seed, 0xE57, idx]) % 20 == 0 { "I" } else { "A" }.to_string())
            }
            _ => None,
        }
    }

    /// The JSON of record `idx` of `r` as currently stored (version applied).
    pub fn record(&self, r: Resource, idx: u64) -> Value {
        let mut v = match r {
            Resource::Categoria => self.categoria(idx),
            Resource::Marca => self.marca(idx),
            Resource::Variante => self.variante(idx),
            Resource::Producto => self.producto(idx),
            Resource::Bodega => self.bodega(idx),
            Resource::MovimientoInventario => self.movimiento(idx),
            Resource::Guia => self.guia(idx),
            Resource::Documento => self.documento(idx),
            Resource::Transaccion => self.transaccion(idx),
            Resource::Persona => self.persona(idx),
            Resource::CentroCosto => self.centro_costo(idx),
            Resource::CuentaContable => self.cuenta_contable(idx),
            Resource::Asiento => self.asiento(idx),
            Resource::BancoCuenta => self.banco_cuenta(idx),
            Resource::BancoMovimiento => self.banco_movimiento(idx),
        };
        let version = self.st.version(self.ov, r, idx);
        if version > 0 {
            self.apply_version(r, idx, version, &mut v);
        }
        if let Some(fields) = self.ov.res[r.index()].overrides.get(&idx) {
            if let Some(o) = v.as_object_mut() {
                for (k, val) in fields {
                    o.insert(k.clone(), val.clone());
                }
            }
        }
        v
    }

    /// How a mutation shows up in the body: one or two fields change per version.
    fn apply_version(&self, r: Resource, idx: u64, version: u32, v: &mut Value) {
        let mut rng = Rng::from_parts(&[self.st.seed, r.ns() as u64, idx, version as u64, 0x5EC]);
        let o = v.as_object_mut().expect("records are objects");
        let tag = format!(" (MOD {version})");
        let append = |o: &mut Map<String, Value>, k: &str| {
            let cur = o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let base = cur.split(" (MOD ").next().unwrap_or("").to_string();
            o.insert(k.to_string(), json!(format!("{base}{tag}")));
        };
        match r {
            Resource::Categoria
            | Resource::Marca
            | Resource::Variante
            | Resource::Bodega
            | Resource::CentroCosto
            | Resource::CuentaContable
            | Resource::BancoCuenta => append(o, "nombre"),
            Resource::Producto => {
                let numeric = o.get("pvp1").is_some_and(Value::is_number);
                o.insert("pvp1".into(), amt(rng.money(1.0, 900.0), numeric));
                o.insert("cantidad_stock".into(), json!(format!("{:.1}", rng.range(-5, 400) as f64)));
            }
            Resource::MovimientoInventario | Resource::Guia => {
                append(o, "descripcion");
                if o.get("estado").and_then(Value::as_str) == Some("P") {
                    o.insert("estado".into(), json!("G"));
                }
            }
            Resource::Documento => {
                append(o, "descripcion");
                let paid = if o.get("tipo_registro").and_then(Value::as_str) == Some("PRO") { "G" } else { "C" };
                if o.get("estado").and_then(Value::as_str) == Some("P") {
                    o.insert("estado".into(), json!(paid));
                    o.insert("saldo".into(), json!("0.00"));
                }
            }
            Resource::Transaccion => {
                o.insert("numero_comprobante".into(), json!(format!("{:06}-{version}", rng.below(999_999))));
            }
            Resource::Persona => {
                o.insert("telefonos".into(), json!(format!("09{:08}", rng.below(100_000_000))));
                append(o, "direccion");
            }
            Resource::Asiento => append(o, "glosa"),
            Resource::BancoMovimiento => {
                o.insert("numero_comprobante".into(), json!(format!("{:012}", rng.below(1_000_000_000_000))));
            }
        }
    }

    fn categoria(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::Categoria, idx);
        let padre = if idx > 0 && rng.chance(0.4) {
            json!(self.id(Resource::Categoria, rng.below(idx.min(self.st.base.max(1)))))
        } else {
            Value::Null
        };
        let tipo = *rng.pick(&[Some("PROD"), Some("SERV"), None]);
        json!({
            "padre_id": padre,
            "cuenta_compra": Value::Null,
            "tipo_producto": tipo,
            "cuenta_venta": self.ref_id(Resource::CuentaContable, &mut rng),
            "para_supereasy": false,
            "para_comisariato": false,
            "agrupar": rng.chance(0.1),
            "nombre": format!("{} {}", rng.pick(CATEGORIAS), idx + 1),
            "id": self.id(Resource::Categoria, idx),
            "cuenta_inventario": if rng.chance(0.3) { self.ref_id(Resource::CuentaContable, &mut rng) } else { Value::Null },
        })
    }

    fn marca(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::Marca, idx);
        json!({
            "nombre": format!("{} {}", rng.pick(MARCAS), idx + 1),
            "id": self.id(Resource::Marca, idx),
        })
    }

    fn variante(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::Variante, idx);
        let (name, vals) = rng.pick(VARIANTES);
        let valores: Vec<Value> = vals
            .iter()
            .enumerate()
            .map(|(j, v)| {
                json!({
                    "id": self.st.ids.encode(NS_VARIANTE_VALOR, idx * 8 + j as u64),
                    "valor": v,
                })
            })
            .collect();
        json!({
            "nombre": if idx < VARIANTES.len() as u64 { name.to_string() } else { format!("{name} {}", idx + 1) },
            "id": self.id(Resource::Variante, idx),
            "valores": valores,
        })
    }

    fn bodega(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::Bodega, idx);
        let nombre = match idx {
            0 => "Bodega Principal".to_string(),
            1 => "Mercaderia en Transito".to_string(),
            _ => format!("Bodega {} {}", rng.pick(CIUDADES), idx + 1),
        };
        json!({
            "venta": rng.chance(0.8),
            "produccion": rng.chance(0.3),
            "compra": rng.chance(0.8),
            "nombre": nombre,
            "codigo": format!("BOD{:03}", idx + 1),
            "id": self.id(Resource::Bodega, idx),
        })
    }

    fn producto(&self, idx: u64) -> Value {
        let r = Resource::Producto;
        let mut rng = self.rng(r, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        let servicio = rng.chance(0.15);
        let pvp1 = rng.money(1.0, 900.0);
        let iva = if servicio && rng.chance(0.3) {
            0
        } else if self.date_of(created) >= NaiveDate::from_ymd_opt(2024, 4, 1).expect("date") {
            15
        } else {
            12
        };
        let marca = if rng.chance(0.5) { self.ref_idx(&mut rng) } else { None };
        let marca_nombre = marca.map(|m| self.marca(m)["nombre"].clone());
        let variantes = if rng.chance(0.2) {
            json!([{ "valor_id": Value::Null, "variante_id": self.ref_id(Resource::Variante, &mut rng) }])
        } else {
            json!([])
        };
        json!({
            "porcentaje_iva": iva,
            "costo_maximo": Value::Null,
            "descripcion_departamento": Value::Null,
            "imagen": "",
            "minimo": qty(rng.range(0, 10) as f64, numeric),
            "para_comisariato": false,
            "indicador_peso": Value::Null,
            "descripcion": format!("{} MODELO {}", rng.pick(PRODUCTOS), rng.range(100, 999)),
            "generacion_automatica": false,
            "cuenta_costo_id": Value::Null,
            "pvp2": amt(pvp1 * 1.1, numeric),
            "tipo": if servicio { "SER" } else { "PRO" },
            "fecha_creacion": self.date_str(created),
            "id": self.id(r, idx),
            "tipo_producto": *rng.pick(&["SIM", "SIM", "SIM", "COM", "COP", "PRO"]),
            "pvp3": amt(pvp1 * 0.95, numeric),
            "codigo_proveedor": Value::Null,
            "pvp1": amt(pvp1, numeric),
            "descripcion_familia": Value::Null,
            "id_integracion_proveedor": Value::Null,
            "para_supereasy": false,
            "nombre": format!("{} {} {}", rng.pick(PRODUCTOS), rng.pick(MARCAS).to_uppercase(), idx + 1),
            "codigo_sap": Value::Null,
            "descripcion_jerarquia": Value::Null,
            "pvp_manual": rng.chance(0.1),
            "codigo_barra": format!("{:012}", hash(&[self.st.seed, 0xBA2C, idx]) % 1_000_000_000_000),
            "pvp_comisariato": Value::Null,
            "pvp4": amt(pvp1 * 0.9, numeric),
            "cuenta_venta_id": self.ref_id(Resource::CuentaContable, &mut rng),
            "categoria_id": self.ref_id(Resource::Categoria, &mut rng),
            "peso_hasta": Value::Null,
            "pvp_peso": Value::Null,
            "jerarquia": Value::Null,
            "departamento": Value::Null,
            "para_pos": true,
            "familia": Value::Null,
            "marca_id": marca.map(|m| json!(self.id(Resource::Marca, m))).unwrap_or(Value::Null),
            "marca_nombre": marca_nombre.unwrap_or(Value::Null),
            "estado": if rng.chance(0.92) { "A" } else { "I" },
            "categoria_comisariato_id": Value::Null,
            "cuenta_compra_id": Value::Null,
            "personalizado1": Value::Null,
            "peso_desde": Value::Null,
            "personalizado2": Value::Null,
            "codigo": format!("{:05}", idx + 1),
            "nombre_producto_base": Value::Null,
            "pvp_supereasy": Value::Null,
            "variantes": Value::Null,
            "producto_base_id": Value::Null,
            "detalle_variantes": variantes,
            "lead_time": Value::Null,
            "cantidad_stock": format!("{:.1}", if servicio { 0 } else { rng.range(-5, 400) } as f64),
        })
    }

    /// `GET /producto/<ID>/stock/`: quantities are numbers in the doc example.
    pub fn stock(&self, idx: u64) -> Value {
        let mut rng = Rng::from_parts(&[self.st.seed, 0x570C, idx]);
        let n = 1 + rng.below(3);
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(b) = self.ref_idx(&mut rng) else {
                break;
            };
            if seen.contains(&b) || self.st.is_deleted(self.ov, Resource::Bodega, b) {
                continue;
            }
            seen.push(b);
            let bodega = self.record(Resource::Bodega, b);
            out.push(json!({
                "bodega_nombre": bodega["nombre"],
                "bodega_id": bodega["id"],
                "cantidad": rng.range(0, 250),
            }));
        }
        Value::Array(out)
    }

    fn movimiento(&self, idx: u64) -> Value {
        let r = Resource::MovimientoInventario;
        let mut rng = self.rng(r, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        let d = self.date_of(created);
        let tipo = *rng.pick(&["ING", "ING", "EGR", "EGR", "TRA", "AJU"]);
        let mut detalles = Vec::new();
        let mut total = 0.0;
        for _ in 0..1 + rng.below(3) {
            let precio = rng.money(1.0, 300.0);
            let cant = rng.range(1, 50) as f64;
            total += precio * cant;
            detalles.push(json!({
                "serie": Value::Null,
                "producto_id": self.ref_id(Resource::Producto, &mut rng),
                "edicion": Value::Null,
                "precio": qty(precio, numeric),
                "cantidad": qty(cant, numeric),
            }));
        }
        json!({
            "codigo": format!("{tipo} {:04}{:02}{:06}", d.year(), d.month(), idx + 1),
            "bodega_id": self.ref_id(Resource::Bodega, &mut rng),
            "tipo": tipo,
            "fecha": ddmmyyyy(d),
            "generar_asiento": rng.chance(0.5),
            "pos": Value::Null,
            "detalles": detalles,
            "maneja_venta": Value::Null,
            "descripcion": format!("Movimiento {tipo} {}", idx + 1),
            "total": if tipo == "EGR" { amt(0.0, numeric) } else { amt(total, numeric) },
            "estado": if rng.chance(0.85) { "G" } else { "P" },
            "id": self.id(r, idx),
            "bodega_destino_id": if tipo == "TRA" { self.ref_id(Resource::Bodega, &mut rng) } else { Value::Null },
            "codigo_interno": Value::Null,
        })
    }

    fn guia(&self, idx: u64) -> Value {
        let r = Resource::Guia;
        let mut rng = self.rng(r, idx);
        let created = self.st.created(self.ov, r, idx);
        let fecha = self.date_str(created);
        let fin = self.date_str(created + rng.range(0, 3) * 86_400);
        let transportista = self.ref_id(Resource::Persona, &mut rng);
        json!({
            "cedula_chofer": Value::Null,
            "transportista_id": transportista,
            "fecha_emision": fecha,
            "electronico": true,
            "autorizacion": "",
            "nombre_chofer": format!("{} {}", rng.pick(NOMBRES), rng.pick(APELLIDOS)),
            "numero_documento": format!("001-001-{:09}", idx + 1),
            "fecha_fin": fin,
            "pos": Value::Null,
            "bodega_id": self.ref_id(Resource::Bodega, &mut rng),
            "id": self.id(r, idx),
            "nombre_despachador": Value::Null,
            "fecha_inicio": fecha,
            "ordencompraventa_id": Value::Null,
            "descripcion": format!("Entrega guia {}", idx + 1),
            "direccion_partida": format!("Av. {} y {}", rng.pick(LUGARES), rng.pick(APELLIDOS)),
            "estado": if rng.chance(0.95) { "E" } else { "A" },
            "placa": format!("{}{}{}-{:04}", (b'A' + rng.below(26) as u8) as char, (b'A' + rng.below(26) as u8) as char, (b'A' + rng.below(26) as u8) as char, rng.below(10_000)),
            "adicional1": Value::Null,
            "adicional2": Value::Null,
            "destinatario": {
                "documento_id": self.ref_id(Resource::Documento, &mut rng),
                "codigo_destino": "",
                "direccion": format!("{} centro", rng.pick(CIUDADES)),
                "ruta": *rng.pick(&["Norte", "Sur", "Centro", ""]),
                "destinatario_id": self.ref_id(Resource::Persona, &mut rng),
                "motivo": "Envio de mercaderia",
                "detalle": [{
                    "cantidad": format!("{:.1}", rng.range(1, 20) as f64),
                    "serie": Value::Null,
                    "producto_id": self.ref_id(Resource::Producto, &mut rng),
                    "fecha_expiracion": Value::Null,
                    "nombre_manual": "",
                    "lote": Value::Null,
                }],
            },
        })
    }

    /// The subset of a persona embedded in documents as `cliente` / `persona`.
    fn persona_embedded(&self, pidx: u64) -> Value {
        let p = self.persona_v1(pidx);
        json!({
            "ruc": p["ruc"],
            "cedula": p["cedula"],
            "razon_social": p["razon_social"],
            "telefonos": p["telefonos"],
            "direccion": p["direccion"],
            "tipo": p["tipo"],
            "email": p["email"],
            "es_extranjero": p["es_extranjero"],
        })
    }

    fn documento(&self, idx: u64) -> Value {
        let r = Resource::Documento;
        let mut rng = self.rng(r, idx);
        let core = doc_core(self.st.seed, self.st.base, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        let emitted = created - doc_emission_lag_days(self.st.seed, idx) * 86_400;
        let emision = self.date_of(emitted);
        let rate = if emision >= NaiveDate::from_ymd_opt(2024, 4, 1).expect("date") { 15.0 } else { 12.0 };
        let tipo_documento = if core.is_cli {
            *rng.pick(&["FAC", "FAC", "FAC", "FAC", "NCT", "NVE"])
        } else {
            *rng.pick(&["FAC", "FAC", "FAC", "LQC"])
        };
        let mut detalles = Vec::new();
        let (mut sub0, mut sub12) = (0.0, 0.0);
        for _ in 0..1 + rng.below(4) {
            let cant = rng.range(1, 10) as f64;
            let precio = rng.money(0.5, 500.0);
            let gravado = rng.chance(0.8);
            let base = (cant * precio * 100.0).round() / 100.0;
            if gravado {
                sub12 += base;
            } else {
                sub0 += base;
            }
            detalles.push(json!({
                "producto_id": self.ref_id(Resource::Producto, &mut rng),
                "cantidad": cant,
                "precio": precio,
                "porcentaje_iva": if gravado { rate as i64 } else { 0 },
                "porcentaje_descuento": 0.0,
                "base_cero": if gravado { 0.0 } else { base },
                "base_gravable": if gravado { base } else { 0.0 },
                "base_no_gravable": 0.0,
            }));
        }
        let iva = (sub12 * rate).round() / 100.0;
        let mut total = ((sub0 + sub12 + iva) * 100.0).round() / 100.0;
        // Integration mistakes a checker should find: every 97th document's total is a dollar more
        // than its bases plus tax, and another's taxed base is half a dollar more than its lines.
        match idx % 97 {
            41 => total += 1.0,
            83 => {
                sub12 += 0.5;
                total += 0.5;
            }
            _ => {}
        }
        let estado = if core.is_cli {
            *rng.pick(&["P", "P", "C", "C", "C", "A"])
        } else {
            *rng.pick(&["P", "P", "G", "G", "G", "A"])
        };
        let pagado = estado == "C" || estado == "G";
        let cobros = if pagado {
            json!([{
                "forma_cobro": *rng.pick(&["EF", "CQ", "TC", "TRA"]),
                "numero_comprobante": format!("{:06}", rng.below(1_000_000)),
                "caja_id": Value::Null,
                "monto": amt(total, numeric),
                "numero_tarjeta": Value::Null,
                "fecha": ddmmyyyy(emision),
                "nombre_tarjeta": Value::Null,
                "tipo_banco": Value::Null,
                "cuenta_bancaria_id": self.ref_id(Resource::BancoCuenta, &mut rng),
                "bin_tarjeta": Value::Null,
                "monto_propina": Value::Null,
                "numero_cheque": Value::Null,
                "fecha_cheque": Value::Null,
                "tipo_ping": Value::Null,
                "id": self.st.ids.encode(NS_COBRO, idx),
                "lote": Value::Null,
            }])
        } else {
            json!([])
        };
        let electronico = core.is_cli || tipo_documento == "LQC";
        let persona = core.persona_idx.map(|p| self.persona_embedded(p)).unwrap_or(Value::Null);
        let serie = if core.is_cli {
            "001-001".to_string()
        } else {
            format!("{:03}-001", 1 + hash(&[self.st.seed, 0x5E, idx]) % 20)
        };
        let autorizacion: String = (0..49).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
        let mut o = json!({
            "id": self.id(r, idx),
            "tipo_registro": if core.is_cli { "CLI" } else { "PRO" },
            "tipo_documento": tipo_documento,
            "documento": format!("{serie}-{:09}", idx + 1),
            "estado": estado,
            "anulado": estado == "A",
            "autorizacion": if electronico { json!(autorizacion) } else { json!(format!("{:010}", rng.below(10_000_000_000))) },
            "electronico": electronico,
            "firmado": electronico,
            "entregado": true,
            "persona_id": core.persona_idx.map(|p| json!(self.id(Resource::Persona, p))).unwrap_or(Value::Null),
            "vendedor": Value::Null,
            "vendedor_id": Value::Null,
            "vendedor_identificacion": Value::Null,
            // Every 31st purchase is advertising (a local category's classification finds it).
            "descripcion": match (core.is_cli, idx % 31 == 5) {
                (true, _) => format!("VENTA {}", idx + 1),
                (false, true) => format!("COMPRA PUBLICIDAD {}", idx + 1),
                (false, false) => format!("COMPRA {}", idx + 1),
            },
            "subtotal_0": amt(sub0, numeric),
            "subtotal_12": amt(sub12, numeric),
            "iva": amt(iva, numeric),
            "ice": amt(0.0, numeric),
            "servicio": amt(0.0, numeric),
            "total": amt(total, numeric),
            "saldo": if pagado || estado == "A" { amt(0.0, numeric) } else { amt(total, numeric) },
            "saldo_anticipo": Value::Null,
            "adicional1": "",
            "adicional2": "",
            "referencia": "",
            "detalles": detalles,
            "cobros": cobros,
            "fecha_emision": ddmmyyyy(emision),
            "hora_emision": if rng.chance(0.5) { json!(local_naive(emitted, EC_OFFSET_H).format("%H:%M").to_string()) } else { Value::Null },
            "fecha_vencimiento": self.date_str(emitted + 30 * 86_400),
            "fecha_creacion": self.date_str(created),
            "url_ride": Value::Null,
            "url_xml": Value::Null,
            "pos": Value::Null,
            "caja_id": Value::Null,
            "documento_relacionado_id": Value::Null,
            "tarjeta_consumo_id": Value::Null,
            "logistica": Value::Null,
            "tipo_descuento": Value::Null,
            "orden_domicilio_id": Value::Null,
            "tipo_domicilio": Value::Null,
            "placa": Value::Null,
            "pax": Value::Null,
            "fecha_evento": Value::Null,
            "hora_evento": Value::Null,
            "direccion_evento": Value::Null,
            "url_": Value::Null,
        });
        let m = o.as_object_mut().expect("object");
        if self.v2 {
            // reference: the v2 example embeds the full `persona` for the document's
            // counterpart and adds SRI flags.
            m.insert("persona".into(), core.persona_idx.map(|p| self.persona_v2_base(p)).unwrap_or(Value::Null));
            m.insert("subtotal".into(), amt(sub0 + sub12, numeric));
            m.insert("autorizado_sri".into(), json!(electronico));
            m.insert("enviado_sri".into(), json!(electronico));
            m.insert("correo_enviado".into(), json!(electronico));
        } else if core.is_cli {
            m.insert("cliente".into(), persona);
        } else {
            m.insert("persona".into(), persona);
        }
        o
    }

    fn transaccion(&self, idx: u64) -> Value {
        let r = Resource::Transaccion;
        let mut rng = self.rng(r, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        let doc = self.ref_idx(&mut rng);
        let (tipo, persona) = match doc {
            Some(d) => {
                let core = doc_core(self.st.seed, self.st.base, d);
                (
                    if core.is_cli { "C" } else { "P" },
                    core.persona_idx.map(|p| json!(self.id(Resource::Persona, p))).unwrap_or(Value::Null),
                )
            }
            None => ("C", Value::Null),
        };
        let doc_id = doc.map(|d| json!(self.id(Resource::Documento, d))).unwrap_or(Value::Null);
        // reference: field names as read by third-party code; full schema NOT FOUND.
        json!({
            "id": self.id(r, idx),
            "tipo": tipo,
            "fecha_emision": self.date_str(created),
            "total": amt(rng.money(5.0, 3000.0), numeric),
            "numero_comprobante": format!("{:06}", idx + 1),
            "forma": *rng.pick(&["EF", "CQ", "TC", "TRA"]),
            "persona_id": persona,
            "documento_id": doc_id,
            "detalles": [{ "documento_id": doc_id }],
        })
    }

    fn persona(&self, idx: u64) -> Value {
        if self.v2 {
            self.persona_v2(idx)
        } else {
            self.persona_v1(idx)
        }
    }

    fn persona_v1(&self, idx: u64) -> Value {
        let r = Resource::Persona;
        let mut rng = self.rng(r, idx);
        let roll = rng.below(100);
        let tipo = if roll < 60 {
            "N"
        } else if roll < 95 {
            "J"
        } else {
            "I"
        };
        let es_proveedor = rng.chance(0.35);
        let es_cliente = !es_proveedor || rng.chance(0.3);
        let (cedula, ruc, razon, comercial) = match tipo {
            "N" => {
                let c = cedula_ec(&mut rng);
                let ruc = if es_proveedor {
                    json!(format!("{c}001"))
                } else if rng.chance(0.5) {
                    json!("")
                } else {
                    Value::Null
                };
                let name = format!("{} {} {}", rng.pick(APELLIDOS), rng.pick(APELLIDOS), rng.pick(NOMBRES));
                (json!(c), ruc, name.clone(), name)
            }
            "J" => {
                let ruc = ruc_sociedad(&mut rng);
                let name = format!("{} {} {}", rng.pick(EMPRESAS), rng.pick(LUGARES), rng.pick(SUFIJOS));
                let comercial = format!("{} {}", rng.pick(EMPRESAS), rng.pick(LUGARES));
                (json!(""), json!(ruc), name, comercial)
            }
            _ => (json!(""), json!(""), format!("CONSUMIDOR {}", idx + 1), String::new()),
        };
        let cat = rng.below(3);
        let email = format!("contacto{}@{}.example", idx + 1, rng.pick(LUGARES).to_lowercase().replace(' ', ""));
        json!({
            "adicional1_cliente": "",
            "personaasociada_id": Value::Null,
            "direccion": format!("{} {}", rng.pick(CIUDADES), rng.range(1, 999)),
            "id": self.id(r, idx),
            "es_vendedor": rng.chance(0.05),
            "tipo": tipo,
            "razon_social": razon,
            "nombre_comercial": comercial,
            "es_corporativo": false,
            "porcentaje_descuento": if rng.chance(0.5) { Value::Null } else { json!("0.0") },
            "origen": Value::Null,
            "ruc": ruc,
            "banco_codigo_id": Value::Null,
            "email": email,
            "adicional3_cliente": "",
            "es_cliente": es_cliente,
            "adicional1_proveedor": "",
            "numero_tarjeta": Value::Null,
            "adicional3_proveedor": "",
            "es_extranjero": false,
            "adicional2_cliente": "",
            "es_empleado": rng.chance(0.05),
            "aplicar_cupo": false,
            "es_proveedor": es_proveedor,
            "telefonos": format!("0{}{:07}", rng.range(2, 9), rng.below(10_000_000)),
            "adicional4_proveedor": "",
            "tipo_cuenta": Value::Null,
            "adicional4_cliente": "",
            "placa": Value::Null,
            "adicional2_proveedor": "",
            "cedula": cedula,
            "id_categoria": self.st.ids.encode(NS_PERSONA_CATEGORIA, cat),
            "categoria_nombre": format!("categoria_persona{}", cat + 1),
        })
    }

    /// v2 persona without mutation applied (used inside v2 documents).
    fn persona_v2_base(&self, idx: u64) -> Value {
        let mut v = self.persona_v1(idx);
        let mut rng = Rng::from_parts(&[self.st.seed, 0x2E2, idx]);
        let o = v.as_object_mut().expect("object");
        let cat = o.remove("id_categoria").unwrap_or(Value::Null);
        o.insert("categoria_id".into(), cat);
        // reference: v2 example shows `telefonos` as a number; some records do that.
        if rng.chance(0.2) {
            let digits: String =
                o.get("telefonos").and_then(Value::as_str).unwrap_or("").chars().filter(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse::<u64>() {
                o.insert("telefonos".into(), json!(n));
            }
        }
        o.insert("porcentaje_descuento".into(), json!(0.0));
        o.insert("pvp_default".into(), Value::Null);
        o.insert("sueldo".into(), Value::Null);
        o.insert("dias_credito".into(), if rng.chance(0.3) { json!("30") } else { Value::Null });
        o.insert("cupo_credito".into(), Value::Null);
        o.insert(
            "vendedor_asignado".into(),
            if rng.chance(0.3) {
                json!({"id": self.id(Resource::Persona, rng.below(self.st.base.max(1))), "nombre": format!("{} {}", rng.pick(NOMBRES), rng.pick(APELLIDOS))})
            } else {
                Value::Null
            },
        );
        let m = self.st.modified(self.ov, Resource::Persona, idx);
        o.insert(
            "fecha_modificacion".into(),
            json!(local_naive(m, EC_OFFSET_H).format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
        v
    }

    fn persona_v2(&self, idx: u64) -> Value {
        self.persona_v2_base(idx)
    }

    fn centro_costo(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::CentroCosto, idx);
        let group = idx / 10;
        let is_group = idx % 10 == 0;
        json!({
            "tipo": if is_group { "G" } else { "T" },
            "padre_id": if is_group { Value::Null } else { json!(self.id(Resource::CentroCosto, group * 10)) },
            "nombre": format!("Centro costo {} {}", rng.pick(CIUDADES), idx + 1),
            "codigo": if is_group { format!("{}", group + 1) } else { format!("{}.{}", group + 1, idx % 10) },
            "estado": if rng.chance(0.95) { "A" } else { "I" },
            "id": self.id(Resource::CentroCosto, idx),
        })
    }

    fn cuenta_contable(&self, idx: u64) -> Value {
        let mut rng = self.rng(Resource::CuentaContable, idx);
        let group = idx / 10;
        let is_group = idx % 10 == 0;
        let nombres = [
            "CAJA",
            "BANCOS",
            "CLIENTES",
            "INVENTARIOS",
            "PROVEEDORES",
            "IVA POR PAGAR",
            "VENTAS",
            "COSTO DE VENTAS",
            "GASTOS GENERALES",
            "SUELDOS",
        ];
        json!({
            "id": self.id(Resource::CuentaContable, idx),
            "nombre": format!("{} {}", rng.pick(&nombres), idx + 1),
            "codigo": if is_group { format!("{}", group + 1) } else { format!("{}.{}", group + 1, idx % 10) },
            "tipo": if is_group { "G" } else { "C" },
        })
    }

    /// The journal entry of sales invoice `idx`, when document `idx` is one: its receivable on
    /// the debit side, its bases and its VAT on the credit side, and a description that names the
    /// document ("Venta FAC 001-001-000000251"). Every 89th sale (idx 7, 96, …) has no entry: an
    /// invoice the books are missing. The reference documents no field linking an entry to its
    /// document; the number in `glosa` is this simulator's (and BackOffice's) reading.
    fn sale_entry(&self, idx: u64) -> Option<(String, Vec<(&'static str, f64)>)> {
        if idx >= self.st.base || idx % 89 == 7 {
            return None;
        }
        let d = self.documento(idx);
        if d["tipo_registro"] != "CLI" || d["tipo_documento"] != "FAC" || d["anulado"] == true {
            return None;
        }
        let n = |k: &str| match &d[k] {
            Value::String(s) => s.parse::<f64>().unwrap_or(0.0),
            v => v.as_f64().unwrap_or(0.0),
        };
        let bases = ((n("subtotal_0") + n("subtotal_12")) * 100.0).round() / 100.0;
        let mut lines = vec![("D", n("total")), ("H", bases)];
        if n("iva") > 0.0 {
            lines.push(("H", n("iva")));
        }
        Some((format!("Venta FAC {}", d["documento"].as_str().unwrap_or_default()), lines))
    }

    fn asiento(&self, idx: u64) -> Value {
        let r = Resource::Asiento;
        let mut rng = self.rng(r, idx);
        let created = self.st.created(self.ov, r, idx);
        if let Some((glosa, lines)) = self.sale_entry(idx) {
            let detalles: Vec<Value> = lines
                .iter()
                .map(|(tipo, v)| {
                    json!({
                        "cuenta_id": self.ref_id(Resource::CuentaContable, &mut rng),
                        "centro_costo_id": Value::Null,
                        "tipo": tipo,
                        "valor": format!("{v:.2}"),
                    })
                })
                .collect();
            let mut o =
                json!({ "detalles": detalles, "glosa": glosa, "fecha": self.date_str(created), "id": self.id(r, idx) });
            if self.v2 {
                let m = o.as_object_mut().expect("object");
                m.insert("gasto_no_deducible".into(), json!(false));
                m.insert("prefijo".into(), json!("ASI"));
            }
            return o;
        }
        let debe_n = 1 + rng.below(2);
        let mut detalles = Vec::new();
        let mut total = 0.0;
        for _ in 0..debe_n {
            let v = rng.money(10.0, 2000.0);
            total += v;
            detalles.push(json!({
                "cuenta_id": self.ref_id(Resource::CuentaContable, &mut rng),
                "centro_costo_id": self.ref_id(Resource::CentroCosto, &mut rng),
                "tipo": "D",
                "valor": format!("{v:.2}"),
            }));
        }
        detalles.push(json!({
            "cuenta_id": self.ref_id(Resource::CuentaContable, &mut rng),
            "centro_costo_id": self.ref_id(Resource::CentroCosto, &mut rng),
            "tipo": "H",
            "valor": format!("{total:.2}"),
        }));
        let prefijo = if rng.chance(0.2) { "NOM" } else { "ASI" };
        let mut o = json!({
            "detalles": detalles,
            "glosa": format!("Asiento {} {}", if prefijo == "NOM" { "nomina" } else { "manual" }, idx + 1),
            "fecha": self.date_str(created),
            "id": self.id(r, idx),
        });
        if self.v2 {
            let m = o.as_object_mut().expect("object");
            m.insert("gasto_no_deducible".into(), json!(false));
            m.insert("prefijo".into(), json!(prefijo));
        }
        o
    }

    fn banco_cuenta(&self, idx: u64) -> Value {
        let r = Resource::BancoCuenta;
        let mut rng = self.rng(r, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        json!({
            "id": self.id(r, idx),
            "saldo_inicial": amt(rng.money(0.0, 50_000.0), numeric),
            "numero": format!("{:010}", rng.below(10_000_000_000)),
            "tipo_cuenta": if rng.chance(0.5) { "CA" } else { "CC" },
            "fecha_corte": self.date_str(created),
            "nombre": format!("CTA {} {}", rng.pick(BANCOS), idx + 1),
            "estado": if rng.chance(0.9) { "A" } else { "I" },
        })
    }

    fn banco_movimiento(&self, idx: u64) -> Value {
        let r = Resource::BancoMovimiento;
        let mut rng = self.rng(r, idx);
        let numeric = rng.chance(0.1);
        let created = self.st.created(self.ov, r, idx);
        let d = self.date_of(created);
        let tipo = *rng.pick(&["D", "N", "X", "C", "T"]);
        let ingreso = matches!(tipo, "D" | "N" | "X");
        let mut detalles = Vec::new();
        for _ in 0..1 + rng.below(3) {
            detalles.push(json!({
                "monto": qty(rng.money(5.0, 5000.0), numeric),
                "cuenta_id": if rng.chance(0.5) { self.ref_id(Resource::CuentaContable, &mut rng) } else { Value::Null },
                "centro_costo_id": if rng.chance(0.3) { self.ref_id(Resource::CentroCosto, &mut rng) } else { Value::Null },
            }));
        }
        json!({
            "numero_comprobante": format!("{:04}{:02}{:06}", d.year(), d.month(), idx + 1),
            "persona": self.ref_id(Resource::Persona, &mut rng),
            "tipo": tipo,
            "cuenta_bancaria_id": self.ref_id(Resource::BancoCuenta, &mut rng),
            "tipo_registro": if ingreso { "I" } else { "E" },
            "detalles": detalles,
            "fecha_emision": ddmmyyyy(d),
            "id": self.id(r, idx),
        })
    }
}
