"""Area codes whose region a person decided, with the reason (written to area_codes.json)."""

from __future__ import annotations

from collections.abc import Mapping

# Cases the automatic match gets wrong or cannot decide, with the reason recorded in
# area_codes.json. Most name a kabupaten's seat, a town that idn-area-data knows by
# another name (its kecamatan or kelurahan are named otherwise). The generator refuses
# an override the automatic match already agrees with, so the table only holds live
# corrections.
OVERRIDES: Mapping[str, tuple[str, str]] = {
    "21": ("31", "Jabodetabek spans DKI Jakarta, West Java and Banten; Jakarta's exchange"),
    "292": ("33.15", "Purwodadi, seat of Grobogan (a Purwodadi kecamatan is in Purworejo)"),
    "327": ("35.29", "the Kangean and Masalembu islands are both Sumenep's"),
    "356": ("35.23", "Tuban's exchange; Rembang (Central Java) has its own code, 0295"),
    "362": ("51.08", "Singaraja, seat of Buleleng"),
    "363": ("51.07", "Amlapura, seat of Karangasem"),
    "382": ("53.07", "Maumere, seat of Sikka"),
    "386": ("53.05", "Kalabahi, seat of Alor"),
    "403": ("74.03", "Raha, seat of Muna"),
    "410": ("73.10", "Pangkep is Pangkajene dan Kepulauan"),
    "462": ("72.11", "Banggai town is the seat of Banggai Laut; Kabupaten Banggai is 0461"),
    "465": ("72.12", "Kolonedale, seat of Morowali Utara"),
    "484": ("73.12", "Watansoppeng, seat of Soppeng"),
    "485": ("73.13", "Sengkang, seat of Wajo"),
    "513": ("62.05", "Muara Teweh, seat of Barito Utara"),
    "522": ("62.13", "Ampah, in Barito Timur"),
    "525": ("62.04", "Buntok, seat of Barito Selatan"),
    "531": ("62.02", "Sampit, seat of Kotawaringin Timur (a kelurahan Sampit is in Ketapang)"),
    "532": ("62.01", "Pangkalan Bun, seat of Kotawaringin Barat"),
    "537": ("62.10", "Kuala Kurun, seat of Gunung Mas"),
    "538": ("62.07", "Kuala Pembuang, seat of Seruyan"),
    "620": ("12.05", "Pangkalan Brandan, in Langkat"),
    "629": ("11.02", "Kutacane, seat of Aceh Tenggara"),
    "634": ("12.77", "Padang Sidempuan is Kota Padangsidimpuan"),
    "635": ("12.20", "Gunung Tua, seat of Padang Lawas Utara"),
    "643": ("11.04", "Takengon, seat of Aceh Tengah"),
    "650": ("11.09", "Sinabang, seat of Simeulue"),
    "654": ("11.14", "Calang, seat of Aceh Jaya"),
    "655": ("11.05", "Meulaboh, seat of Aceh Barat"),
    "702": ("16.11", "Tebing Tinggi, seat of Empat Lawang"),
    "716": ("19.05", "Muntok, seat of Bangka Barat"),
    "728": ("18.04", "Liwa, seat of Lampung Barat"),
    "738": ("17.07", "Muara Aman, seat of Lebong"),
    "742": ("15.06", "Kuala Tungkal, seat of Tanjung Jabung Barat"),
    "746": ("15.02", "Bangko, seat of Merangin (a Bangko kecamatan is in Rokan Hilir)"),
    "747": ("15.08", "Muara Bungo, seat of Bungo"),
    "756": ("13.01", "Painan, seat of Pesisir Selatan"),
    "757": ("13.01", "Balai Selasa, in Pesisir Selatan"),
    "760": ("14.09", "Teluk Kuantan, seat of Kuantan Singingi"),
    "763": ("14.10", "Selatpanjang, seat of Kepulauan Meranti"),
    "764": ("14.08", "Siak Sri Indrapura, seat of Siak"),
    "767": ("14.07", "Bagansiapiapi, seat of Rokan Hilir"),
    "772": ("21.05", "Tarempa, seat of Kepulauan Anambas"),
    "773": ("21.03", "Ranai, seat of Natuna"),
    "776": ("21.04", "Dabo Singkep, seat of Lingga"),
    "779": ("21.02", "Tanjung Batu on Kundur, Karimun (not the Ogan Ilir kecamatan)"),
    "901": ("94.04", "Timika, seat of Mimika"),
    "910": ("81.01", "Banda Neira, in Maluku Tengah"),
    "917": ("81.07", "Dobo, seat of Kepulauan Aru"),
    "918": ("81.03", "Saumlaku, seat of Kepulauan Tanimbar"),
    "921": ("82", "Soasiu (Soasio, Tidore) shares the code with Ternate: the province"),
    "927": ("82.04", "Labuha, seat of Halmahera Selatan"),
    "975": ("93.02", "Tanah Merah, seat of Boven Digoel"),
    "983": ("91.05", "Serui, seat of Kepulauan Yapen"),
}
